"""Login throttling, kept in the database so every worker process shares one count.

Two keys per attempt: the account name (stops guessing one password from many
addresses) and the client address (stops trying many names from one address).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, delete, func, insert, select

from qunyun import clock
from qunyun.errors import TooManyAttempts
from qunyun.store.schema import login_failures

WINDOW = timedelta(minutes=15)
LIMITS = {"user": 5, "ip": 20}


def keys(name: str, ip: str | None) -> list[str]:
    out = [f"user:{name.lower()}"]
    if ip:
        out.append(f"ip:{ip}")
    return out


def check(conn: Connection, keys: list[str]) -> None:
    since = clock.now() - WINDOW
    f = login_failures.c
    for key in keys:
        limit = LIMITS[key.split(":", 1)[0]]
        n = conn.execute(select(func.count()).where(f.key == key, f.at > since)).scalar_one()
        if n >= limit:
            oldest = conn.execute(
                select(func.min(f.at)).where(f.key == key, f.at > since)
            ).scalar_one()
            wait = int((oldest + WINDOW - clock.now()).total_seconds()) + 1
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {max(wait, 1)} seconds",
                zh=f"登录失败次数过多，请 {max(wait, 1)} 秒后再试",
                retry_after=max(wait, 1),
            )


def note_failure(conn: Connection, keys: list[str]) -> None:
    now = clock.now()
    conn.execute(insert(login_failures), [{"key": k, "at": now} for k in keys])
    # keep the table small: failures older than the window no longer count
    conn.execute(delete(login_failures).where(login_failures.c.at < now - WINDOW))


def clear(conn: Connection, name: str) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.key == f"user:{name.lower()}"))
