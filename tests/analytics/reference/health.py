"""Group health (0–100) and the dying-group warning, per group, from the rollups.

Each group is judged on its own last 28 days ending at the report's last day —
whatever else is in the report — so a group's score is the same in a one-group
report and in the all-groups overview. The formula is in docs/metrics.md:

* growth   = clamp(0.5 + 2.5 × net growth / members 28 days ago)      (±20 % → 1 / 0)
* activity = clamp(active members (30 days) / members ÷ 0.30)          (30 % active → 1)
* retention= clamp((share of members 28 days ago still in − 0.80) ÷ 0.20)
* response = 1 at a median first response ≤ 15 min, 0 at ≥ 4 h, log-linear between;
             0.5 when nobody asked anything
* score    = 25 × (growth + activity + retention + response), rounded

Dying: effective messages per week in the last 4 weeks ≤ 50 % of the weekly rate of
the 8 weeks before, given at least 20 effective messages in those 8 weeks.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from qunyun.analytics.scope import Scope, day_date, local_day
from qunyun.store.schema import group_hourly, identities, member_daily, memberships
from tests.analytics.reference.data import Said, messages
from tests.analytics.reference.metrics import first_response

WINDOW = 28
DYING_RATIO = 0.5
DYING_MIN_PRIOR = 20


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def group_health(conn: Connection, scope: Scope) -> dict[str, Any]:
    end = scope.last_day
    gids = scope.group_ids
    eff = _effective_windows(conn, gids, end)
    mau = _mau(conn, gids, end)
    counts = _member_counts(conn, scope, end)
    resp = _response(conn, scope, end)
    out = []
    for g in scope.groups:
        start_n, end_n, stayed = counts.get(g.id, (0, 0, 0))
        recent, prior = eff.get(g.id, (0, 0))
        growth = _clamp(0.5 + 2.5 * (end_n - start_n) / start_n) if start_n else 0.5
        activity = _clamp(mau.get(g.id, 0) / end_n / 0.30) if end_n else 0.0
        retention = _clamp((stayed / start_n - 0.80) / 0.20) if start_n else 0.5
        median = resp.get(g.id)
        if median is None:
            response = 0.5
        else:
            response = _clamp(
                1 - (math.log(max(median, 15)) - math.log(15)) / (math.log(240) - math.log(15))
            )
        score = round(25 * (growth + activity + retention + response))
        recent_rate, prior_rate = recent / 4, prior / 8
        dying = prior >= DYING_MIN_PRIOR and recent_rate <= DYING_RATIO * prior_rate
        out.append(
            {
                "id": g.id,
                "title": g.title or g.external_id,
                "platform": g.platform,
                "score": score,
                "components": {
                    "growth": round(growth, 3),
                    "activity": round(activity, 3),
                    "retention": round(retention, 3),
                    "response": round(response, 3),
                },
                "members": end_n,
                "effective_per_week_recent": round(recent_rate, 1),
                "effective_per_week_prior": round(prior_rate, 1),
                "change": round(recent_rate / prior_rate - 1, 3) if prior_rate else None,
                "median_response_minutes": median,
                "dying": dying,
            }
        )
    out.sort(key=lambda r: (r["score"], r["id"]))
    scores = [r["score"] for r in out]
    return {
        "window_days": WINDOW,
        "score": round(statistics.fmean(scores)) if scores else None,
        "groups": out,
    }


def _effective_windows(conn: Connection, gids: list[int], end: int) -> dict[int, tuple[int, int]]:
    h = group_hourly.c
    recent_from, prior_from = (end - 27) * 24, (end - 27 - 56) * 24
    q = (
        select(
            h.group_id,
            func.sum(case((h.local_hour >= recent_from, h.effective), else_=0)),
            func.sum(case((h.local_hour < recent_from, h.effective), else_=0)),
        )
        .where(h.group_id.in_(gids), h.local_hour >= prior_from, h.local_hour < (end + 1) * 24)
        .group_by(h.group_id)
    )
    return {g: (int(r or 0), int(p or 0)) for g, r, p in conn.execute(q)}


def _mau(conn: Connection, gids: list[int], end: int) -> dict[int, int]:
    d = member_daily.c
    q = (
        select(d.group_id, func.count(func.distinct(d.identity_id)))
        .where(d.group_id.in_(gids), d.local_day > end - 30, d.local_day <= end, d.effective > 0)
        .group_by(d.group_id)
    )
    return {g: int(n) for g, n in conn.execute(q)}


def _member_counts(conn: Connection, scope: Scope, end: int) -> dict[int, tuple[int, int, int]]:
    """(members WINDOW days ago, members at end, of the former still in at end) per group."""
    m = memberships.c
    q = (
        select(m.group_id, m.first_joined_at, m.first_seen_at, m.last_joined_at, m.last_left_at)
        .join(identities, identities.c.id == m.identity_id)
        .where(m.group_id.in_(scope.group_ids), identities.c.is_bot.is_(False))
    )
    zones = {g.id: scope.zone(g.id) for g in scope.groups}
    start = end - WINDOW
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for g, fj, fs, lj, ll in conn.execute(q):
        tz = zones[g]
        entry = local_day(fj or fs, tz)
        over = ll is not None and (lj is None or ll >= lj)
        exit_day = local_day(ll, tz) if over else None
        at_start = entry <= start and (exit_day is None or exit_day > start)
        at_end = entry <= end and (exit_day is None or exit_day > end)
        a = acc[g]
        a[0] += at_start
        a[1] += at_end
        a[2] += at_start and at_end
    return {g: (a[0], a[1], a[2]) for g, a in acc.items()}


def _response(conn: Connection, scope: Scope, end: int) -> dict[int, float | None]:
    last = day_date(end) + timedelta(days=1)
    first = last - timedelta(days=WINDOW)
    lo = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
    hi = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    by_group: dict[int, list[Said]] = defaultdict(list)
    for s in messages(conn, scope, lo, hi):
        by_group[s.group_id].append(s)
    return {g: first_response(said, hi)["median_minutes"] for g, said in by_group.items()}
