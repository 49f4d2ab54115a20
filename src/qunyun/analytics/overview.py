"""The community overview: a few headline numbers for every group of a scope at once.

The full report (report.py) loads every membership and member-day of its scope into
Python so that its cohort metrics can follow people; over a thousand groups that is
hundreds of thousands of rows and tens of seconds. A dashboard listing all groups
needs none of the per-person metrics, so this module asks the store for sums and
counts grouped by group (and by day) and only assembles the answer. Every number
uses the report's definition (docs/metrics.md, "overview"), and a test holds the two
equal on the same store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from qunyun.analytics import health, members
from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import group_daily, member_daily

SCHEMA_VERSION = 1
#: the report's ``active_share`` is MAU (last 30 days of the range) over members at the end
MAU_DAYS = 30


def build(conn: Connection, scope: Scope) -> dict[str, Any]:
    gids = scope.group_ids
    first, last = scope.first_day, scope.last_day
    bots = members.bot_ids(conn) if len(gids) > 1 else None
    per_group = _range_sums(conn, gids, first, last)
    per_day = _day_sums(conn, gids, first, last)
    active = _active(conn, gids, first, last)
    counts = members.on_days(
        conn, scope, [first - 1, last - health.WINDOW, last], both=(1, 2), bots=bots
    )
    # health from the same counts (its MAU is the range's, its members now are ours)
    judged = {
        h["id"]: h
        for h in health.score(
            scope,
            health.Inputs(
                effective=health.effective_windows(conn, gids, last),
                mau={g: a[1] for g, a in active.items()},
                counts={g: (c[1], c[2], c[3]) for g, c in counts.items()},
                medians=health.response_medians(conn, scope, last),
            ),
        )["groups"]
    }

    rows = []
    for g in sorted(scope.groups, key=lambda r: r.id):
        joins, leaves, msgs, eff = per_group.get(g.id, (0, 0, 0, 0))
        start_n, _, end_n, _ = counts.get(g.id, (0, 0, 0, 0))
        in_range, mau = active.get(g.id, (0, 0))
        h = judged.get(g.id)
        rows.append(
            {
                "id": g.id,
                "title": g.title or g.external_id,
                "platform": g.platform,
                "external_id": g.external_id,
                "members": end_n,
                "joins": joins,
                "leaves": leaves,
                "net": end_n - start_n,
                "messages": msgs,
                "effective": eff,
                "active_members": in_range,
                "active_share": round(mau / end_n, 4) if end_n else None,
                "health_score": h["score"] if h else None,
                "dying": bool(h and h["dying"]),
                "change": h["change"] if h else None,
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "scope": scope.describe(),
        "totals": {
            "groups": len(rows),
            **{
                k: sum(r[k] for r in rows)
                for k in (
                    "members",
                    "joins",
                    "leaves",
                    "net",
                    "messages",
                    "effective",
                    "active_members",
                )
            },
            "dying": sum(1 for r in rows if r["dying"]),
        },
        "daily": [
            {
                "date": day_date(d).isoformat(),
                "joins": v[0],
                "leaves": v[1],
                "messages": v[2],
                "effective": v[3],
            }
            for d, v in ((d, per_day.get(d, (0, 0, 0, 0))) for d in range(first, last + 1))
        ],
        "groups": rows,
    }


_Sums = tuple[int, int, int, int]


def _range_sums(conn: Connection, gids: list[int], first: int, last: int) -> dict[int, _Sums]:
    """Per group: (joins, exits, messages, effective) over the range's local days."""
    d = group_daily.c
    q = (
        select(d.group_id, *_sums())
        .where(d.group_id.in_(gids), d.local_day >= first, d.local_day <= last)
        .group_by(d.group_id)
    )
    return {g: (int(j), int(x), int(m), int(e)) for g, j, x, m, e in conn.execute(q).all()}


def _day_sums(conn: Connection, gids: list[int], first: int, last: int) -> dict[int, _Sums]:
    """Per local day of the range: (joins, exits, messages, effective) over the groups."""
    d = group_daily.c
    q = (
        select(d.local_day, *_sums())
        .where(d.group_id.in_(gids), d.local_day >= first, d.local_day <= last)
        .group_by(d.local_day)
    )
    return {int(k): (int(j), int(x), int(m), int(e)) for k, j, x, m, e in conn.execute(q).all()}


def _sums() -> list[ColumnElement[Any]]:
    d = group_daily.c
    return [func.sum(d.joins), func.sum(d.exits), func.sum(d.messages), func.sum(d.effective)]


def _active(conn: Connection, gids: list[int], first: int, last: int) -> dict[int, tuple[int, int]]:
    """Per group: distinct members active in the range, and in its last MAU_DAYS days.

    For a range of exactly MAU_DAYS days (a 30-day month, the default range) the two
    are one count; the store's distinct counting is the expensive part here.
    """
    d = member_daily.c
    mau_from = last - MAU_DAYS + 1
    where = and_(
        d.group_id.in_(gids),
        d.local_day >= min(first, mau_from),
        d.local_day <= last,
        d.effective > 0,
    )
    if first == mau_from:
        q1 = select(d.group_id, func.count(func.distinct(d.identity_id))).where(where)
        return {g: (int(n), int(n)) for g, n in conn.execute(q1.group_by(d.group_id)).all()}
    q = (
        select(
            d.group_id,
            func.count(func.distinct(case((d.local_day >= first, d.identity_id)))),
            func.count(func.distinct(case((d.local_day >= mau_from, d.identity_id)))),
        )
        .where(where)
        .group_by(d.group_id)
    )
    return {g: (int(a), int(m)) for g, a, m in conn.execute(q).all()}
