"""Opening a store: one function that every command and test goes through.

Opening also migrates, so a user never runs a separate "upgrade" step, and a
store made by an older qunyun is brought up to date before anything reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from qunyun.config import database_url
from qunyun.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
#: the newest migration; a store already there opens without loading Alembic, which
#: is a quarter of a second of every command's start (tests check it is the head)
HEAD = "0010"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (or the configured store), without migrating."""
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}", zh=f"数据库 URL 无效：{url!r}") from exc
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the driver for {parsed.get_backend_name()} is not installed ({exc.name}); "
            "for PostgreSQL: pip install 'qunyun[postgres]'",
            zh="缺少数据库驱动；PostgreSQL 请安装 qunyun[postgres]",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the console read while an import writes; NORMAL sync is safe with WAL
    # (a power cut may lose the last commits, never corrupt the file).
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    # Statement journals in memory: each multi-row insert of a batch otherwise spills
    # the pages it changes to a temporary file (gigabytes over a large import). A
    # statement journal only serves to undo a failed statement; losing it in a crash
    # loses nothing, the WAL still holds every commit.
    cur.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint every 64 MB of WAL instead of 4 MB: an import batch rewrites most
    # pages of the hash-keyed event index, and each checkpoint copies a page once
    # however many commits changed it. Crash safety is the WAL's, unchanged.
    cur.execute("PRAGMA wal_autocheckpoint=16384")
    cur.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it already is)."""
    try:
        with engine.connect() as conn:
            current = _revision(conn)
    except OperationalError as exc:
        raise ConfigError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}",
            zh=f"无法连接数据库：{exc.orig}",
        ) from exc
    if current != HEAD:
        from alembic import command

        command.upgrade(alembic_config(engine), "head")


def _revision(conn: Any) -> str | None:
    """The store's migration revision, read as Alembic keeps it (None: a new store)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


def open_store(url: str | None = None) -> Engine:
    """The engine of a ready-to-use store."""
    engine = make_engine(url)
    migrate(engine)
    return engine
