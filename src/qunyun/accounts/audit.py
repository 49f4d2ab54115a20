"""The audit log: one row for every change a person (or the CLI) made.

Written in the same transaction as the change it describes, so the log can never
claim a change that was rolled back, nor miss one that happened.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from qunyun import clock
from qunyun.accounts.roles import Actor
from qunyun.store.schema import audit_log


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=clock.now(),
            user_id=actor.user_id,
            user_name=actor.name,
            action=action,
            target=target,
            detail=detail,
            ip=actor.ip,
        )
    )


def entries(
    conn: Connection,
    *,
    user: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first, with the total count for paging."""
    a = audit_log.c
    where = []
    if user:
        where.append(a.user_name == user)
    if action:
        where.append(a.action.startswith(action))
    total = conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one()
    q = select(audit_log).where(*where).order_by(a.id.desc()).limit(limit).offset(offset)
    rows = [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "user": r.user_name,
            "action": r.action,
            "target": r.target,
            "detail": r.detail,
            "ip": r.ip,
        }
        for r in conn.execute(q)
    ]
    return rows, int(total)
