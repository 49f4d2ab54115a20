"""Membership rows folded together and rebuilt from the log, for identity links.

Memberships are derived from the events by the ingester with order-independent
min/max/sum updates. A link (qunyun.crm.links) merges two rows of one person the
same way; undoing it rebuilds each row from the events alone, so the result is what
the ingester would have made without the link, whatever was imported in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, union_all

from qunyun.events import MEMBER_EXIT_KINDS
from qunyun.store.schema import events, identities
from qunyun.store.schema import memberships as ms

_EXITS = tuple(k.value for k in MEMBER_EXIT_KINDS)
_JOIN_COLS = ("join_method", "invited_by_id", "channel_code", "invite_link")


def row(conn: Connection, group_id: int, identity_id: int) -> dict[str, Any] | None:
    got = conn.execute(
        select(ms).where(ms.c.group_id == group_id, ms.c.identity_id == identity_id)
    ).first()
    return dict(got._mapping) if got is not None else None


def fold(conn: Connection, group_id: int, alias_id: int, speaker_id: int) -> bool:
    """Merge the alias's membership row into the speaker's and remove it."""
    alias, speaker = row(conn, group_id, alias_id), row(conn, group_id, speaker_id)
    if alias is None or speaker is None:
        return False
    merged = merge_rows(speaker, alias)
    keep = {k: v for k, v in merged.items() if k not in ("id", "group_id", "identity_id")}
    conn.execute(ms.update().where(ms.c.id == speaker["id"]).values(**keep))
    conn.execute(ms.delete().where(ms.c.id == alias["id"]))
    return True


def _lesser(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greater(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def merge_rows(into: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """Two membership rows of one person in one group as one, the way the ingester
    folds events: the earlier first join brings its method and inviter, the later exit
    its kind; times take min/max, message counts add."""
    out = dict(into)
    j0, j1 = into["first_joined_at"], other["first_joined_at"]
    if j1 is not None and (j0 is None or j1 < j0):
        for c in ("first_joined_at", *_JOIN_COLS):
            out[c] = other[c]
    x0, x1 = into["last_left_at"], other["last_left_at"]
    if x1 is not None and (x0 is None or x1 >= x0):
        out["last_left_at"], out["left_how"] = x1, other["left_how"]
    out["last_joined_at"] = _greater(into["last_joined_at"], other["last_joined_at"])
    out["first_seen_at"] = _lesser(into["first_seen_at"], other["first_seen_at"])
    out["last_seen_at"] = _greater(into["last_seen_at"], other["last_seen_at"])
    out["message_count"] = int(into["message_count"]) + int(other["message_count"])
    out["first_message_at"] = _lesser(into["first_message_at"], other["first_message_at"])
    return out


def rebuild_membership(conn: Connection, group_id: int, identity_id: int) -> None:
    """The (group, identity) membership row from the events alone, as the ingester makes it.

    Messages it wrote count; joins and exits are those where it is the target; every
    event naming it, as actor or target, is "seen". Ties between joins at one instant
    go to the smaller method name, then the earlier event, as within an import batch.
    """
    e = events.c
    where = e.group_id == group_id
    part = [
        select(e.id, e.kind, e.ts, e.actor_id, e.target_id).where(where, col == identity_id)
        for col in (e.actor_id, e.target_id)
    ]
    both = union_all(*part).subquery()
    rows = {r.id: r for r in conn.execute(select(both))}
    existing = row(conn, group_id, identity_id)
    if not rows:
        if existing is not None:
            conn.execute(ms.delete().where(ms.c.id == existing["id"]))
        return
    said = [r.ts for r in rows.values() if r.kind == "message" and r.actor_id == identity_id]
    mine = [r for r in rows.values() if r.target_id == identity_id]
    join_ids = [r.id for r in mine if r.kind == "join"]
    exits = [r for r in mine if r.kind in _EXITS]
    values: dict[str, Any] = {
        "first_seen_at": min(r.ts for r in rows.values()),
        "last_seen_at": max(r.ts for r in rows.values()),
        "message_count": len(said),
        "first_message_at": min(said) if said else None,
        "first_joined_at": None,
        "last_joined_at": None,
        "join_method": "unknown",
        "invited_by_id": None,
        "channel_code": None,
        "invite_link": None,
        "last_left_at": None,
        "left_how": None,
    }
    if join_ids:
        values.update(_first_join(conn, join_ids, rows))
    if exits:
        last = max(exits, key=lambda r: (r.ts, r.id))
        values["last_left_at"], values["left_how"] = last.ts, last.kind
    if existing is not None:
        conn.execute(ms.update().where(ms.c.id == existing["id"]).values(**values))
        return
    person = conn.execute(
        select(identities.c.person_id).where(identities.c.id == identity_id)
    ).scalar_one()
    conn.execute(
        ms.insert().values(group_id=group_id, identity_id=identity_id, person_id=person, **values)
    )


def _first_join(conn: Connection, join_ids: list[int], rows: Mapping[int, Any]) -> dict[str, Any]:
    e = events.c
    payloads = dict(conn.execute(select(e.id, e.payload).where(e.id.in_(join_ids))).all())
    joins = []
    for jid in join_ids:
        p = payloads.get(jid) or {}
        joins.append((rows[jid].ts, str(p.get("method") or "unknown"), jid, p))
    ts, method, jid, p = min(joins, key=lambda j: j[:3])
    r = rows[jid]
    return {
        "first_joined_at": ts,
        "last_joined_at": max(j[0] for j in joins),
        "join_method": method,
        "invited_by_id": r.actor_id if r.actor_id != r.target_id else None,
        "channel_code": p.get("channel_code"),
        "invite_link": p.get("invite_link"),
    }
