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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from qunyun.analytics import members, response
from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import group_daily, member_daily

WINDOW = 28
DYING_RATIO = 0.5
DYING_MIN_PRIOR = 20


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


@dataclass(frozen=True)
class Inputs:
    """What the score is computed from, per group id (absent: zero / nobody asked).

    Kept apart from the scoring so that the all-groups overview can fill it from the
    queries it runs anyway (overview.py) and still score exactly like a report.
    """

    #: effective messages in the last 4 weeks and in the 8 weeks before
    effective: dict[int, tuple[int, int]]
    #: members active in the last 30 days
    mau: dict[int, int]
    #: members WINDOW days before the end, at the end, and of the former still in
    counts: dict[int, tuple[int, int, int]]
    #: median minutes to first response in the window (None: nothing answered)
    medians: dict[int, float | None]


def group_health(
    conn: Connection, scope: Scope, mau: dict[int, int] | None = None
) -> dict[str, Any]:
    """``mau``: members active in the 30 days to the scope's end per group, when the
    caller has counted them already (a report's data.load does)."""
    return score(scope, gather(conn, scope, mau))


def gather(conn: Connection, scope: Scope, mau: dict[int, int] | None = None) -> Inputs:
    end = scope.last_day
    gids = scope.group_ids
    return Inputs(
        effective=effective_windows(conn, gids, end),
        mau=_mau(conn, gids, end) if mau is None else mau,
        counts=_member_counts(conn, scope, end),
        medians=response_medians(conn, scope, end),
    )


def score(scope: Scope, inputs: Inputs) -> dict[str, Any]:
    eff, mau, counts, resp = inputs.effective, inputs.mau, inputs.counts, inputs.medians
    out = []
    for g in scope.groups:
        start_n, end_n, stayed = counts.get(g.id, (0, 0, 0))
        recent, prior = eff.get(g.id, (0, 0))
        growth = _clamp(0.5 + 2.5 * (end_n - start_n) / start_n) if start_n else 0.5
        activity = _clamp(mau.get(g.id, 0) / end_n / 0.30) if end_n else 0.0
        retention = _clamp((stayed / start_n - 0.80) / 0.20) if start_n else 0.5
        median = resp.get(g.id)
        if median is None:
            answering = 0.5
        else:
            answering = _clamp(
                1 - (math.log(max(median, 15)) - math.log(15)) / (math.log(240) - math.log(15))
            )
        points = round(25 * (growth + activity + retention + answering))
        recent_rate, prior_rate = recent / 4, prior / 8
        dying = prior >= DYING_MIN_PRIOR and recent_rate <= DYING_RATIO * prior_rate
        out.append(
            {
                "id": g.id,
                "title": g.title or g.external_id,
                "platform": g.platform,
                "score": points,
                "components": {
                    "growth": round(growth, 3),
                    "activity": round(activity, 3),
                    "retention": round(retention, 3),
                    "response": round(answering, 3),
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


def effective_windows(conn: Connection, gids: list[int], end: int) -> dict[int, tuple[int, int]]:
    """Per group: effective messages in the last 4 weeks to ``end``, and in the 8 before.

    Two plain sums, which the store answers faster than one sum split by a CASE.
    """
    d = group_daily.c
    recent_from, prior_from = end - 27, end - 27 - 56
    out: dict[int, list[int]] = {}
    for i, (lo, hi) in enumerate(((recent_from, end + 1), (prior_from, recent_from))):
        q = (
            select(d.group_id, func.sum(d.effective))
            .where(d.group_id.in_(gids), d.local_day >= lo, d.local_day < hi)
            .group_by(d.group_id)
        )
        for g, n in conn.execute(q).all():
            out.setdefault(g, [0, 0])[i] = int(n or 0)
    return {g: (r, p) for g, (r, p) in out.items()}


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
    return members.counts(conn, scope, end - WINDOW, end)


def response_medians(conn: Connection, scope: Scope, end: int) -> dict[int, float | None]:
    """Median first response per group over the window (UTC days, one day of slack each side)."""
    last = day_date(end) + timedelta(days=1)
    first = last - timedelta(days=WINDOW)
    lo = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
    hi = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return response.medians(conn, scope.group_ids, lo, hi)
