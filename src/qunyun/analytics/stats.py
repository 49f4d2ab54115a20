"""``qunyun stats``: the first look at what is in the store.

Counts come from the membership rows the ingester keeps (members, authors, messages)
and from the rollups, which are already in each group's own time zone (a message at
23:30 on 31 Jan in Shanghai belongs to January there, whatever UTC says).

A *member* is anyone a group's history shows in it — who joined and never spoke
included — and an *author* a member with at least one message event; bots are
neither (docs/metrics.md), they are counted apart (``bots``, ``bot_messages``).
Every key is defined in docs/cli.md.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, false, func, not_, select, true

from qunyun.store.queries import find_groups, is_member
from qunyun.store.schema import events, group_daily, identities, memberships

#: the per-group counts read from the membership rows, in output order
_COUNTS = ("members", "members_ever", "authors", "bots", "messages", "bot_messages")

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
                **{k: c.get(k, 0) for k in _COUNTS},
                "first_event": first,
                "last_event": last,
            }
        )
    months = _months(conn, {r.id: r.tz for r in rows})
    totals = {
        "groups": len(rows),
        **{k: sum(g[k] for g in out_groups) for k in _COUNTS},
        "people": _people(conn, gids),
        "joins": sum(m["joins"] for m in months),
        "leaves": sum(m["leaves"] for m in months),
    }
    return {"totals": totals, "groups": out_groups, "months": months}


def _membership_counts(conn: Connection, gids: list[int]) -> dict[int, dict[str, int]]:
    """Per group: human memberships (current, ever, with a message), bots, messages."""
    m, i = memberships.c, identities.c
    human = i.is_bot == false()

    def n(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((cond, 1), else_=0))

    q = (
        select(
            m.group_id,
            n(and_(human, is_member())).label("members"),
            n(human).label("members_ever"),
            n(and_(human, m.message_count > 0)).label("authors"),
            n(i.is_bot == true()).label("bots"),
            func.sum(m.message_count).label("messages"),
            func.sum(case((not_(human), m.message_count), else_=0)).label("bot_messages"),
        )
        .join(identities, i.id == m.identity_id)
        .where(m.group_id.in_(gids))
        .group_by(m.group_id)
    )
    return {r.group_id: {k: int(getattr(r, k) or 0) for k in _COUNTS} for r in conn.execute(q)}


def _people(conn: Connection, gids: list[int]) -> int:
    """Distinct persons (not bots) who are currently in at least one of the groups."""
    m = memberships.c
    q = (
        select(func.count(func.distinct(m.person_id)))
        .join(identities, identities.c.id == m.identity_id)
        .where(m.group_id.in_(gids), is_member(), identities.c.is_bot == false())
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
