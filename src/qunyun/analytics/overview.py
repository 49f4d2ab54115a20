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

from sqlalchemy import Connection, and_, case, func, select

from qunyun.analytics import health, members
from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import group_hourly, member_daily

SCHEMA_VERSION = 1
#: the report's ``active_share`` is MAU (last 30 days of the range) over members at the end
MAU_DAYS = 30


def build(conn: Connection, scope: Scope) -> dict[str, Any]:
    gids = scope.group_ids
    first, last = scope.first_day, scope.last_day
    sums = _day_sums(conn, gids, first, last)
    active = _active(conn, gids, first, last)
    counts = members.counts(conn, scope, first - 1, last)
    judged = {g["id"]: g for g in health.group_health(conn, scope)["groups"]}

    per_group: dict[int, list[int]] = {g: [0, 0, 0, 0] for g in gids}
    per_day: dict[int, list[int]] = {d: [0, 0, 0, 0] for d in range(first, last + 1)}
    for g, day, joins, leaves, msgs, eff in sums:
        for acc in (per_group[g], per_day[day]):
            acc[0] += joins
            acc[1] += leaves
            acc[2] += msgs
            acc[3] += eff

    rows = []
    for g in sorted(scope.groups, key=lambda r: r.id):
        joins, leaves, msgs, eff = per_group[g.id]
        start_n, end_n, _ = counts.get(g.id, (0, 0, 0))
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
            for d, v in sorted(per_day.items())
        ],
        "groups": rows,
    }


def _day_sums(
    conn: Connection, gids: list[int], first: int, last: int
) -> list[tuple[int, int, int, int, int, int]]:
    """(group, local day, joins, exits, messages, effective) for each day with any."""
    h = group_hourly.c
    day = h.local_hour // 24
    q = (
        select(
            h.group_id,
            day,
            func.sum(h.joins),
            func.sum(h.exits),
            func.sum(h.messages),
            func.sum(h.effective),
        )
        .where(h.group_id.in_(gids), h.local_hour >= first * 24, h.local_hour < (last + 1) * 24)
        .group_by(h.group_id, day)
    )
    return [(g, int(d), int(j), int(x), int(m), int(e)) for g, d, j, x, m, e in conn.execute(q)]


def _active(conn: Connection, gids: list[int], first: int, last: int) -> dict[int, tuple[int, int]]:
    """Per group: distinct members active in the range, and in its last MAU_DAYS days."""
    d = member_daily.c
    mau_from = last - MAU_DAYS + 1
    q = (
        select(
            d.group_id,
            func.count(func.distinct(case((d.local_day >= first, d.identity_id)))),
            func.count(func.distinct(case((d.local_day >= mau_from, d.identity_id)))),
        )
        .where(
            and_(
                d.group_id.in_(gids),
                d.local_day >= min(first, mau_from),
                d.local_day <= last,
                d.effective > 0,
            )
        )
        .group_by(d.group_id)
    )
    return {g: (int(a), int(m)) for g, a, m in conn.execute(q)}
