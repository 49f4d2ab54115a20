"""``qunyun stats``: the first look at what is in the store.

Counts come from the membership rows the ingester keeps (members, messages) and
from the rollups, which are already in each group's own time zone (a message at
23:30 on 31 Jan in Shanghai belongs to January there, whatever UTC says).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, func, select

from qunyun.store.queries import find_groups, is_member
from qunyun.store.schema import events, group_daily, memberships

_EPOCH_DAY = date(1970, 1, 1)


def basic_stats(conn: Connection, group: str | None = None) -> dict[str, Any]:
    rows = find_groups(conn, group)
    gids = [r.id for r in rows]
    per_group = _membership_counts(conn, gids)
    span = _event_span(conn, gids)
    out_groups = []
    for r in rows:
        c = per_group.get(r.id, {})
        first, last = span.get(r.id, (None, None))
        out_groups.append(
            {
                "id": r.id,
                "platform": r.platform,
                "external_id": r.external_id,
                "title": r.title,
                "tz": r.tz,
                "members": c.get("members", 0),
                "members_ever": c.get("members_ever", 0),
                "messages": c.get("messages", 0),
                "first_event": first,
                "last_event": last,
            }
        )
    months = _months(conn, {r.id: r.tz for r in rows})
    totals = {
        "groups": len(rows),
        "members": sum(g["members"] for g in out_groups),
        "people": _people(conn, gids),
        "messages": sum(g["messages"] for g in out_groups),
        "joins": sum(m["joins"] for m in months),
        "leaves": sum(m["leaves"] for m in months),
    }
    return {"totals": totals, "groups": out_groups, "months": months}


def _membership_counts(conn: Connection, gids: list[int]) -> dict[int, dict[str, int]]:
    m = memberships.c
    q = (
        select(
            m.group_id,
            func.count().label("ever"),
            func.sum(func.cast(is_member(), Integer())).label("current"),
            func.sum(m.message_count).label("messages"),
        )
        .where(m.group_id.in_(gids))
        .group_by(m.group_id)
    )
    return {
        r.group_id: {
            "members_ever": int(r.ever),
            "members": int(r.current or 0),
            "messages": int(r.messages or 0),
        }
        for r in conn.execute(q)
    }


def _people(conn: Connection, gids: list[int]) -> int:
    """Distinct persons who are currently in at least one of the groups."""
    q = select(func.count(func.distinct(memberships.c.person_id))).where(
        memberships.c.group_id.in_(gids), is_member()
    )
    return int(conn.execute(q).scalar_one())


def _event_span(conn: Connection, gids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    e = events.c
    q = (
        select(e.group_id, func.min(e.ts).label("first"), func.max(e.ts).label("last"))
        .where(e.group_id.in_(gids))
        .group_by(e.group_id)
    )
    out = {}
    for r in conn.execute(q):
        out[r.group_id] = (_iso(r.first), _iso(r.last))
    return out


def _iso(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, int):  # SQLite micros: aggregates skip the column type
        v = datetime.fromtimestamp(v / 1_000_000, UTC)
    return str(v.astimezone(UTC).isoformat())


def _months(conn: Connection, tz_of: dict[int, str]) -> list[dict[str, Any]]:
    """Messages, joins and exits per calendar month, from the local-time rollups."""
    d = group_daily.c
    q = (
        select(d.local_day, func.sum(d.messages), func.sum(d.joins), func.sum(d.exits))
        .where(d.group_id.in_(list(tz_of)))
        .group_by(d.local_day)
    )
    acc: dict[str, dict[str, int]] = defaultdict(lambda: {"messages": 0, "joins": 0, "leaves": 0})
    for d, messages, joins, exits in conn.execute(q):
        local = _EPOCH_DAY + timedelta(days=int(d))
        m = acc[f"{local.year:04d}-{local.month:02d}"]
        m["messages"] += int(messages)
        m["joins"] += int(joins)
        m["leaves"] += int(exits)
    return [{"month": k, **v} for k, v in sorted(acc.items())]
