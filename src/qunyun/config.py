"""Where qunyun keeps its data, decided once from flags and environment.

Precedence: an explicit ``--db`` URL, then ``QUNYUN_DATABASE_URL``, then a SQLite
file in ``QUNYUN_HOME`` (default: the user's data directory). Secrets such as a
PostgreSQL password belong in the URL held by the environment, never in a flag
typed into shell history.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

from qunyun.errors import ConfigError


def home_dir() -> Path:
    """qunyun's own folder: ``QUNYUN_HOME`` or the platform's user data directory."""
    env = os.environ.get("QUNYUN_HOME")
    return Path(env).expanduser() if env else Path(user_data_dir("qunyun", appauthor=False))


def database_url(explicit: str | None = None) -> str:
    """The SQLAlchemy URL of the store to use."""
    url = explicit or os.environ.get("QUNYUN_DATABASE_URL")
    if url:
        if "://" not in url:
            # A bare path is the friendliest way to name a SQLite file.
            return f"sqlite:///{Path(url).expanduser().resolve()}"
        return normalise_url(url)
    home = home_dir()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create qunyun's data folder {home}: {exc.strerror}; set QUNYUN_HOME",
            zh=f"无法创建数据目录 {home}：{exc.strerror}；请设置 QUNYUN_HOME",
        ) from exc
    return f"sqlite:///{home / 'qunyun.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept the URLs people copy from elsewhere (``postgres://``) and pick psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
