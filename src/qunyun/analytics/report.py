"""The report document: every metric for a scope under stable keys (docs/metrics.md).

``qunyun report --format json`` prints it as is; the table, CSV and HTML/PDF
forms are renderings of this one document, so they can never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, column, text

from qunyun import clock
from qunyun.analytics import data as data_mod
from qunyun.analytics import metrics, topics
from qunyun.analytics import response as response_mod
from qunyun.analytics.health import group_health
from qunyun.analytics.members import day_start
from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import UtcDateTime, to_micros

SCHEMA_VERSION = 1
_CHUNK = 500  # newcomers per first-message query


def build(
    conn: Connection, scope: Scope, *, keywords: bool = True, cloud: bool = True
) -> dict[str, Any]:
    data = data_mod.load(conn, scope)
    start, end = _utc_bounds(scope)
    response = response_mod.section(conn, scope.group_ids, start, end + timedelta(days=7), end)
    firsts = _first_messages(conn, data)
    health = group_health(conn, scope, data.mau)
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

    Mostly this is the member's first message in the group, which the ingester keeps
    with the membership. Only when that came before the join (history from before a
    rejoin, say) is the log searched, from the first day they spoke after joining,
    through its (actor_id, ts) index: a step or two per member.
    """
    s = data.scope
    zones = {g.id: ZoneInfo(g.tz) for g in s.groups}
    beyond = s.last_day + data_mod.LOOK_AHEAD_DAYS + 1  # first day not read
    out: dict[tuple[int, int], Any] = {}
    starts: list[tuple[int, int, datetime]] = []
    for m in data.newcomers:
        if m.joined_at is None or m.message_count == 0:
            continue
        if m.first_message_at is not None and m.first_message_at >= m.joined_at:
            out[(m.group_id, m.identity_id)] = m.first_message_at
            continue
        spoke = data.days_of(m).spoke_from(m.entry_day)
        day = spoke[0] if spoke else beyond
        starts.append(
            (m.group_id, m.identity_id, max(m.joined_at, day_start(day, zones[m.group_id])))
        )
    pg = conn.dialect.name == "postgresql"
    for i in range(0, len(starts), _CHUNK):
        chunk = starts[i : i + _CHUNK]
        # Plain text with positional values: building the same VALUES list as
        # SQLAlchemy constructs cost more than the search itself for big cohorts.
        rows = ", ".join(f"(:g{k}, :a{k}, :t{k})" for k in range(len(chunk)))
        params: dict[str, Any] = {}
        for k, (g, a, t) in enumerate(chunk):
            params[f"g{k}"], params[f"a{k}"] = g, a
            params[f"t{k}"] = t if pg else to_micros(t)
        cast = "CAST(n.t AS timestamptz)" if pg else "n.t"
        q = text(
            f"WITH n(g, a, t) AS (VALUES {rows}) "
            "SELECT n.g, n.a, (SELECT e.ts FROM events e "
            f"WHERE e.actor_id = n.a AND e.ts >= {cast} AND e.kind = 'message' "
            # "+ 0": compare without the (group_id, ts) index, which SQLite would
            # otherwise walk through every later message of the group
            "AND e.group_id + 0 = n.g ORDER BY e.ts LIMIT 1) AS ts FROM n"
        ).columns(column("g", Integer), column("a", Integer), column("ts", UtcDateTime))
        for g, a, ts in conn.execute(q, params).all():
            if ts is not None:
                out[(g, a)] = ts
    return out
