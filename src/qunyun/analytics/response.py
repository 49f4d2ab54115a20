"""Time to first response, answered in SQL one question at a time.

The definition is :func:`qunyun.analytics.metrics.first_response` (docs/metrics.md):
a question is answered by the next human message in its group, in log order
(time, then event id), whose author is someone else. Walking every message of a
window in Python to find those answers cost the report its tail latency (the
busiest groups have tens of thousands of messages a month) and made health over
a thousand groups take seconds. A question needs only the *first* later message
by someone else, which the ``(group_id, ts)`` index of the log finds in a few
steps, so the store does that walk per question and Python only sees one row per
question. Tests check this against the pure definition on the same log.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, exists, false, or_, select

from qunyun.store.schema import events, identities, questions


class Asked(NamedTuple):
    group_id: int
    ts: datetime
    minutes: float | None  # None: nobody else spoke before the window closed


def answer_times(
    conn: Connection, group_ids: Iterable[int], after: datetime, before: datetime, until: datetime
) -> list[Asked]:
    """Every question asked in [after, min(before, until)) and its wait for an answer.

    Answers count up to ``before`` (exclusive), the same window
    :func:`qunyun.analytics.data.messages` would have read.
    """
    gids = list(group_ids)
    if not gids:
        return []
    q, e = questions.c, events.alias("answer").c
    asker, speaker = identities.alias("asker"), identities.alias("speaker")
    human_speaker = exists(
        select(speaker.c.id).where(speaker.c.id == e.actor_id, speaker.c.is_bot == false())
    )
    first_answer = (
        select(e.ts)
        .where(
            and_(
                e.group_id == q.group_id,
                e.ts >= q.ts,
                e.ts < before,
                or_(e.ts > q.ts, e.id > q.event_id),
                e.kind == "message",
                e.actor_id != q.actor_id,
                human_speaker,
            )
        )
        .order_by(e.ts)
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(q.group_id, q.ts, first_answer)
        .join(asker, asker.c.id == q.actor_id)
        .where(
            q.group_id.in_(gids),
            q.ts >= after,
            q.ts < min(before, until),
            asker.c.is_bot == false(),
        )
    )
    out = []
    for g, ts, answered_at in conn.execute(stmt).all():
        minutes = None if answered_at is None else (answered_at - ts).total_seconds() / 60
        out.append(Asked(g, ts, minutes))
    return out


def summary(asked: Iterable[Asked]) -> dict[str, Any]:
    """The report's ``response`` section from answer times (keys as in metrics.first_response)."""
    minutes: list[float] = []
    n = 0
    for a in asked:
        n += 1
        if a.minutes is not None:
            minutes.append(a.minutes)
    answered = len(minutes)
    ys = sorted(minutes)
    return {
        "questions": n,
        "answered": answered,
        "answered_share": round(answered / n, 4) if n else None,
        "median_minutes": round(statistics.median(ys), 1) if ys else None,
        "p90_minutes": round(ys[min(len(ys) - 1, int(0.9 * len(ys)))], 1) if ys else None,
    }


def medians(asked: Iterable[Asked]) -> dict[int, float | None]:
    """Median minutes to first response per group (health's response component)."""
    by_group: dict[int, list[float]] = defaultdict(list)
    for a in asked:
        waits = by_group[a.group_id]  # a group whose questions all went unanswered: None
        if a.minutes is not None:
            waits.append(a.minutes)
    return {g: round(statistics.median(xs), 1) if xs else None for g, xs in by_group.items()}
