"""Time to first response, from the answers the rollups keep with each question.

The definition is :func:`qunyun.analytics.metrics.first_response` (docs/metrics.md):
a question is answered by the next human message in its group, in log order
(time, then event id), whose author is someone else. The rollups store that
answer's time on the question as events arrive (``questions.answered_at``, see
:data:`qunyun.analytics.rollups.ANSWER`), so a window's waits are a scan of the
questions table: searching the log for each question's answer at read time was
most of the all-groups overview's cost (165k questions a month in the 10M-event
demo). The store also ranks the waits, so Python receives the few rows a median
and a 90th percentile need rather than one row per question. Tests check the
result against the pure definition on the same log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection

from qunyun.store.queries import placeholders, plain_rows


@dataclass(frozen=True, slots=True)
class Waits:
    """Questions asked, how many were answered, and the answered waits' statistics."""

    questions: int
    answered: int
    median_minutes: float | None  # unrounded
    p90_minutes: float | None  # the same element metrics._quantile picks

    def section(self) -> dict[str, Any]:
        """The report's ``response`` section (keys and rounding of metrics.first_response)."""
        n, k = self.questions, self.answered
        return {
            "questions": n,
            "answered": k,
            "answered_share": round(k / n, 4) if n else None,
            "median_minutes": _round(self.median_minutes),
            "p90_minutes": _round(self.p90_minutes),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def waits(
    conn: Connection,
    group_ids: Iterable[int],
    after: datetime,
    before: datetime,
    until: datetime,
    *,
    per_group: bool,
) -> dict[int, Waits]:
    """First-response statistics of the questions asked in [after, min(before, until)).

    Answers count up to ``before`` (exclusive), the window
    :func:`qunyun.analytics.data.messages` would have read: a question whose first
    answer came later is unanswered here, as it would be in that window. With
    ``per_group`` the result is keyed by group id (groups without questions are
    absent); without, all questions are pooled under key 0 (absent when there were
    none).
    """
    gids = list(group_ids)
    if not gids:
        return {}
    rows = _wait_rows(conn, gids, after, before, min(before, until))
    # the ranking a median needs is a sort in Python: cheaper than the store's
    # window functions over a month of a thousand groups (~165k questions)
    pooled = groupby(rows, key=itemgetter(0)) if per_group else [(0, rows)]
    out = {}
    for k, group_rows in pooled:
        ws = [w for _, w in group_rows]
        done = sorted(int(w) for w in ws if w is not None)
        a = len(done)
        if not a:
            out[k] = Waits(len(ws), 0, None, None)
            continue
        at = [
            w / 10**6 / 60
            for w in (done[(a - 1) // 2], done[a // 2], done[min(a - 1, 9 * a // 10)])
        ]
        median = at[0] if a % 2 else (at[0] + at[1]) / 2  # as statistics.median
        out[k] = Waits(len(ws), a, median, at[2])  # p90: metrics._quantile's element
    return out


def _wait_rows(
    conn: Connection, gids: list[int], after: datetime, before: datetime, end: datetime
) -> list[tuple[int, Any]]:
    """(group id, wait in µs or None) of each question asked in [after, end), by group.

    Plain SQL on the driver's cursor: for a month of a thousand groups this is
    ~165k rows, and SQLAlchemy's result rows cost as much again as the store's
    scan. The wait is ``answered_at − ts`` computed by the store (SQLite keeps
    times as integer µs; PostgreSQL's epoch of an interval is exact), NULL when the
    first answer came at or after ``before``.
    """
    pg = conn.dialect.name == "postgresql"
    wait = "EXTRACT(EPOCH FROM answered_at - ts) * 1000000" if pg else "answered_at - ts"
    sql = (
        f"SELECT group_id, CASE WHEN answered_at < ? THEN {wait} END FROM questions "
        f"WHERE group_id IN ({placeholders(len(gids))}) AND ts >= ? AND ts < ? "
        # the (group_id, ts) index yields this order: no sort
        "ORDER BY group_id"
    )
    return cast(list[tuple[int, Any]], plain_rows(conn, sql, (before, *gids, after, end)))


def section(
    conn: Connection, group_ids: Iterable[int], after: datetime, before: datetime, until: datetime
) -> dict[str, Any]:
    """The report's ``response`` section over all the groups' questions together."""
    pooled = waits(conn, group_ids, after, before, until, per_group=False)
    return pooled.get(0, Waits(0, 0, None, None)).section()


def medians(
    conn: Connection, group_ids: Iterable[int], after: datetime, before: datetime
) -> dict[int, float | None]:
    """Median minutes to first response per group, rounded like the report (health)."""
    got = waits(conn, group_ids, after, before, before, per_group=True)
    return {g: _round(w.median_minutes) for g, w in got.items()}
