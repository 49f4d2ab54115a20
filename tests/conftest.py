"""Store fixtures: every storage test runs once on SQLite and once on PostgreSQL.

PostgreSQL comes from ``QUNYUN_TEST_POSTGRES_URL`` (default: the local server,
database ``test``). Each test run works in its own schema, dropped at the end.
Where no server answers, PostgreSQL tests are skipped with the reason shown —
unless ``QUNYUN_REQUIRE_POSTGRES=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from qunyun.store.engine import make_engine, migrate
from qunyun.store.schema import metadata

PG_URL = os.environ.get("QUNYUN_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("QUNYUN_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store of the test's own (a copy of one migrated template)."""
    path = tmp_path / "qunyun.sqlite3"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[str]:
    import sqlalchemy.exc

    schema = f"qunyun_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (sqlalchemy.exc.OperationalError, ModuleNotFoundError) as exc:
        msg = f"PostgreSQL not available at {PG_URL}: {str(exc).splitlines()[0]}"
        if REQUIRE_PG:
            pytest.fail(msg + " (QUNYUN_REQUIRE_POSTGRES=1)")
        pytest.skip(msg)
    engine = _pg_engine(schema)
    migrate(engine)
    engine.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _pg_engine(schema: str) -> Engine:
    sep = "&" if "?" in PG_URL else "?"
    return make_engine(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")


@pytest.fixture
def postgres_engine(_pg_schema: str) -> Iterator[Engine]:
    """A migrated PostgreSQL store, emptied before each test."""
    engine = _pg_engine(_pg_schema)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine
    engine.dispose()


class EngineContract:
    """Base of storage contract suites: subclass once per engine with ``engine_name``."""

    engine_name: str = ""

    @pytest.fixture
    def engine(self, request: pytest.FixtureRequest) -> Engine:
        return request.getfixturevalue(f"{self.engine_name}_engine")  # type: ignore[no-any-return]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly, at the end, when the PostgreSQL half of the suite did not run."""
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if "PostgreSQL not available" in str(getattr(r, "longrepr", ""))
    ]
    browser = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if "Chromium not found" in str(getattr(r, "longrepr", ""))
    ]
    if browser:
        terminalreporter.write_sep(
            "-",
            f"{len(browser)} browser tests SKIPPED: no Chromium (apt-get install chromium)",
            yellow=True,
        )
    if skipped:
        terminalreporter.write_sep(
            "-",
            f"{len(skipped)} PostgreSQL tests SKIPPED: no server at {PG_URL} "
            "(set QUNYUN_TEST_POSTGRES_URL to run them)",
            yellow=True,
        )
