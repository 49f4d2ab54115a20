"""Browser sessions: a random cookie secret (hashed at rest) and its CSRF token.

Server-side rows rather than signed cookies, so signing out, a password change
or disabling a user ends the session at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, delete, insert, select

from qunyun import clock
from qunyun.accounts.tokens import digest
from qunyun.store.schema import sessions, users

LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str


def start(conn: Connection, user_id: int) -> tuple[str, Session]:
    """A new session; returns the cookie value (shown to the browser only)."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = clock.now()
    conn.execute(delete(sessions).where(sessions.c.expires_at < now))
    conn.execute(
        insert(sessions).values(
            secret_hash=digest(secret),
            user_id=user_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return secret, Session(user_id, csrf)


def find(conn: Connection, secret: str) -> Session | None:
    s = sessions.c
    row = conn.execute(
        select(s.user_id, s.csrf)
        .join(users, users.c.id == s.user_id)
        .where(
            s.secret_hash == digest(secret),
            s.expires_at > clock.now(),
            users.c.disabled.is_(False),
        )
    ).first()
    return Session(int(row.user_id), row.csrf) if row else None


def end(conn: Connection, secret: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.secret_hash == digest(secret)))
