"""The report document: every metric for a scope under stable keys (docs/metrics.md).

``qunyun report --format json`` prints it as is; the table, CSV and HTML/PDF
forms are renderings of this one document, so they can never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, tuple_

from qunyun import clock
from qunyun.analytics import data as data_mod
from qunyun.analytics import metrics, topics
from qunyun.analytics import response as response_mod
from qunyun.analytics.health import group_health
from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import events, memberships

SCHEMA_VERSION = 1


def build(
    conn: Connection, scope: Scope, *, keywords: bool = True, cloud: bool = True
) -> dict[str, Any]:
    data = data_mod.load(conn, scope)
    start, end = _utc_bounds(scope)
    response = response_mod.section(conn, scope.group_ids, start, end + timedelta(days=7), end)
    firsts = _first_messages(conn, data)
    health = group_health(conn, scope)
    doc = {
        "schema": SCHEMA_VERSION,
        "generated_at": clock.now().isoformat(),
        "scope": scope.describe(),
        "growth": metrics.growth(data),
        "activity": metrics.activity(data),
        "top_contributors": metrics.top_contributors(data),
        "newcomers": metrics.newcomers(data, firsts),
        "response": response,
        "retention": metrics.retention(data),
        "funnel": metrics.funnel(data),
        "lifecycle": metrics.lifecycle(data),
        "health": health,
        "dying_groups": [g for g in health["groups"] if g["dying"]],
    }
    if keywords:
        doc["keywords"] = topics.keywords(conn, scope, start, end, cloud=cloud)
    return doc


def _utc_bounds(scope: Scope) -> tuple[datetime, datetime]:
    """Earliest local midnight and latest local end-of-day of the range across zones."""
    starts, ends = [], []
    for g in scope.groups:
        tz = scope.zone(g.id)
        first = day_date(scope.first_day)
        last = day_date(scope.last_day) + timedelta(days=1)
        starts.append(datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC))
        ends.append(datetime(last.year, last.month, last.day, tzinfo=tz).astimezone(UTC))
    return min(starts), max(ends)


def _first_messages(conn: Connection, data: data_mod.ScopeData) -> dict[tuple[int, int], Any]:
    """First message of each newcomer of the range in their group, at or after joining.

    One indexed look-up per newcomer (the log's (actor_id, ts) index, from the join
    on), so the cost follows the number of newcomers, not their message counts.
    """
    new = [m for m in data.newcomers if m.joined_at is not None]
    out: dict[tuple[int, int], Any] = {}
    e, m = events.c, memberships.c
    for i in range(0, len(new), 500):
        chunk = new[i : i + 500]
        first = (
            select(e.ts)
            .where(
                e.actor_id == m.identity_id,
                e.ts >= m.first_joined_at,
                e.group_id == m.group_id,
                e.kind == "message",
            )
            .order_by(e.ts)
            .limit(1)
            .scalar_subquery()
        )
        q = select(m.group_id, m.identity_id, first).where(
            tuple_(m.group_id, m.identity_id).in_([(x.group_id, x.identity_id) for x in chunk])
        )
        for g, a, ts in conn.execute(q).all():
            if ts is not None:
                out[(g, a)] = ts
    return out
