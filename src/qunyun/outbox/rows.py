"""Writing outbox rows, and the operator's view of them (list, retry, cancel)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import Connection, func, select, update

from qunyun import clock
from qunyun.connectors.base import Action
from qunyun.store.schema import outbox


class Priority(IntEnum):
    """Lower goes first: a kick waits for no broadcast."""

    MODERATION = 0
    REPLY = 1
    BROADCAST = 2


#: statuses a row may be in; "unknown": a crash left a non-idempotent send's outcome open
STATUSES = (
    "held",
    "queued",
    "claimed",
    "sending",
    "sent",
    "dead",
    "unknown",
    "skipped",
    "cancelled",
)
RETRYABLE = ("dead", "unknown", "failed")


def enqueue(
    conn: Connection,
    connector: str,
    action: Action,
    *,
    priority: Priority,
    cause: str,
    group_id: int | None = None,
    broadcast_id: int | None = None,
    not_before: datetime | None = None,
    status: str = "queued",
    error: str | None = None,
) -> int:
    """Add ``action`` in ``conn``'s transaction; the same key twice is one row (its id)."""
    now = clock.now()
    existing = conn.execute(select(outbox.c.id).where(outbox.c.key == action.key)).scalar()
    if existing is not None:
        return int(existing)
    values: dict[str, Any] = {
        "key": action.key,
        "connector": connector,
        "chat": action.chat,
        "group_id": group_id,
        "kind": action.kind.value,
        "priority": int(priority),
        "action": action.to_json(),
        "status": status,
        "attempts": 0,
        "not_before": not_before or now,
        "cause": cause,
        "broadcast_id": broadcast_id,
        "created_at": now,
        "error": error,
    }
    return int(conn.execute(outbox.insert().values(**values).returning(outbox.c.id)).scalar_one())


def counts(conn: Connection, connector: str | None = None) -> dict[str, int]:
    q = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    if connector:
        q = q.where(outbox.c.connector == connector)
    return {str(s): int(n) for s, n in conn.execute(q).all()}


def listing(
    conn: Connection,
    *,
    status: str | None = None,
    connector: str | None = None,
    broadcast_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    o = outbox.c
    q = select(outbox).order_by(o.id.desc()).limit(limit)
    if status:
        q = q.where(o.status == status)
    if connector:
        q = q.where(o.connector == connector)
    if broadcast_id is not None:
        q = q.where(o.broadcast_id == broadcast_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def retry(conn: Connection, ids: list[int]) -> int:
    """Queue dead or unknown rows again, from a clean slate; returns how many."""
    res = conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids), outbox.c.status.in_(RETRYABLE))
        .values(
            status="queued",
            attempts=0,
            not_before=clock.now(),
            claimed_by=None,
            error=None,
            error_code=None,
        )
    )
    return int(res.rowcount)


def cancel(conn: Connection, ids: list[int]) -> int:
    res = conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids), outbox.c.status.in_(("held", "queued", "dead", "unknown")))
        .values(status="cancelled")
    )
    return int(res.rowcount)
