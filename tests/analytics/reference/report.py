"""The report document: every metric for a scope under stable keys (docs/metrics.md).

``qunyun report --format json`` prints it as is; the table, CSV and HTML/PDF
forms are renderings of this one document, so they can never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from qunyun import clock
from qunyun.analytics import topics
from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import events
from tests.analytics.reference import data as data_mod
from tests.analytics.reference import metrics
from tests.analytics.reference.health import group_health

SCHEMA_VERSION = 1


def build(
    conn: Connection, scope: Scope, *, keywords: bool = True, cloud: bool = True
) -> dict[str, Any]:
    data = data_mod.load(conn, scope)
    start, end = _utc_bounds(scope)
    said = data_mod.messages(conn, scope, start, end + timedelta(days=7))
    response = metrics.first_response(said, end)
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
    """First message time of each newcomer of the range, in their group."""
    s = data.scope
    new = [
        m
        for m in data.members
        if m.joined_at is not None and s.first_day <= m.entry_day <= s.last_day
    ]
    out: dict[tuple[int, int], Any] = {}
    e = events.c
    for i in range(0, len(new), 500):
        chunk = new[i : i + 500]
        earliest = min(m.joined_at for m in chunk if m.joined_at is not None)
        q = (
            select(e.group_id, e.actor_id, func.min(e.ts))
            .where(
                and_(
                    e.actor_id.in_({m.identity_id for m in chunk}),
                    e.group_id.in_({m.group_id for m in chunk}),
                    e.kind == "message",
                    e.ts >= earliest,
                )
            )
            .group_by(e.group_id, e.actor_id)
        )
        for g, a, ts in conn.execute(q):
            if isinstance(ts, int):  # SQLite aggregate: raw micros
                ts = datetime.fromtimestamp(ts / 1_000_000, UTC)
            out[(g, a)] = ts
    # a first message before the (re)join does not count as speaking after joining
    for m in new:
        ts = out.get((m.group_id, m.identity_id))
        if ts is not None and m.joined_at is not None and ts < m.joined_at:
            out.pop((m.group_id, m.identity_id))
    return out
