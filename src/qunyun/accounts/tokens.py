"""API tokens: ``qy_`` + 43 random characters, shown once, stored as a SHA-256 hash.

A fast hash is right here (unlike passwords): the secret has 256 bits of
entropy, so there is nothing to brute-force, and every API request checks one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from qunyun import clock
from qunyun.accounts import audit
from qunyun.accounts import users as users_mod
from qunyun.accounts.roles import Actor, Role
from qunyun.errors import NotFound, PermissionDenied, UserError
from qunyun.store.schema import api_tokens, users

PREFIX = "qy_"
#: last_used_at is refreshed at most this often, so reads stay reads
TOUCH_EVERY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "user": r.user_name,
        "created_at": r.created_at.isoformat(),
        "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
        "revoked": r.revoked_at is not None,
        "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
    }


def _select() -> Any:
    return select(api_tokens, users.c.name.label("user_name")).join(
        users, users.c.id == api_tokens.c.user_id
    )


def create(
    conn: Connection, actor: Actor, user_name: str | None, name: str
) -> tuple[dict[str, Any], str]:
    """Create a token for ``user_name`` (default: the actor); returns (row, token)."""
    if user_name is None and actor.user_id is None:
        raise UserError(
            "name the user the token is for (--user)", zh="请指定令牌所属用户（--user）"
        )
    owner = users_mod.by_name(conn, user_name) if user_name else users_mod.get(conn, actor.uid)
    if owner.id != actor.user_id:
        actor.require(Role.admin)
        if owner.role.at_least(Role.admin) and actor.role is not Role.owner:
            raise PermissionDenied(
                "only an owner can create tokens for admins and owners",
                zh="只有所有者可以为管理员和所有者创建令牌",
            )
    name = name.strip() or "token"
    if len(name) > 128:
        raise UserError("token name: at most 128 characters", zh="令牌名称最多 128 个字符")
    secret = secrets.token_urlsafe(32)
    tid = conn.execute(
        insert(api_tokens)
        .values(user_id=owner.id, name=name, secret_hash=digest(secret), created_at=clock.now())
        .returning(api_tokens.c.id)
    ).scalar_one()
    audit.record(conn, actor, "token.create", f"{owner.name}/{name}", {"token_id": tid})
    row = conn.execute(_select().where(api_tokens.c.id == tid)).one()
    return _row(row), PREFIX + secret


def listing(conn: Connection, actor: Actor, *, everyone: bool = False) -> list[dict[str, Any]]:
    q = _select().order_by(api_tokens.c.id)
    if everyone:
        actor.require(Role.admin)
    else:
        q = q.where(api_tokens.c.user_id == actor.user_id)
    return [_row(r) for r in conn.execute(q)]


def revoke(conn: Connection, actor: Actor, token_id: int) -> dict[str, Any]:
    row = conn.execute(_select().where(api_tokens.c.id == token_id)).first()
    if row is None or (row.user_id != actor.user_id and not actor.role.at_least(Role.admin)):
        raise NotFound(f"no token {token_id}", zh=f"没有令牌 {token_id}")
    if row.revoked_at is None:
        conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=clock.now())
        )
        audit.record(
            conn, actor, "token.revoke", f"{row.user_name}/{row.name}", {"token_id": token_id}
        )
    return _row(conn.execute(_select().where(api_tokens.c.id == token_id)).one())


def user_for(conn: Connection, token: str) -> int | None:
    """The user id of a valid, unrevoked token of an enabled user, else None."""
    user = owner_of(conn, token)
    return None if user is None else user.id


def owner_of(conn: Connection, token: str) -> users_mod.User | None:
    """The enabled user a valid, unrevoked token belongs to, else None.

    One query for token and user: every API request asks.
    """
    if not token.startswith(PREFIX):
        return None
    t = api_tokens.c
    row = conn.execute(
        select(users, t.id.label("token_id"), t.last_used_at)
        .select_from(api_tokens)
        .join(users, users.c.id == t.user_id)
        .where(
            t.secret_hash == digest(token[len(PREFIX) :]),
            t.revoked_at.is_(None),
            users.c.disabled.is_(False),
        )
    ).first()
    if row is None:
        return None
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        conn.execute(update(api_tokens).where(t.id == row.token_id).values(last_used_at=now))
    return users_mod.acting(conn, row)
