"""Time to first response, answered in SQL one question at a time.

The definition is :func:`qunyun.analytics.metrics.first_response` (docs/metrics.md):
a question is answered by the next human message in its group, in log order
(time, then event id), whose author is someone else. Walking every message of a
window in Python to find those answers cost the report its tail latency (the
busiest groups have tens of thousands of messages a month) and made health over
a thousand groups take seconds. A question needs only the *first* later message
by someone else, which the ``(group_id, ts)`` index of the log finds in a few
steps, so the store does that walk per question. It also ranks the waits, so
Python receives the few rows a median and a 90th percentile need rather than one
row per question (165k of them for a month of the 10M-event demo). Tests check
the result against the pure definition on the same log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from qunyun.store.schema import events, identities, questions


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
    bots: list[int] | None = None,
) -> dict[int, Waits]:
    """First-response statistics of the questions asked in [after, min(before, until)).

    Answers count up to ``before`` (exclusive), the window
    :func:`qunyun.analytics.data.messages` would have read. With ``per_group`` the
    result is keyed by group id (groups without questions are absent); without, all
    questions are pooled under key 0 (absent when there were none). ``bots``: the
    bot identity ids (members.bot_ids) when the caller has them; else identities
    are looked up per message.
    """
    gids = list(group_ids)
    if not gids:
        return {}
    # materialized: otherwise the store inlines the per-question search into every
    # place the wait is used (ordering, counting, output) and runs it that many times
    asked = _asked(conn, gids, after, before, until, bots).cte("asked").prefix_with("MATERIALIZED")
    key = asked.c.group_id if per_group else literal(0)
    wait = asked.c.wait
    ranked = select(
        key.label("k"),
        wait.label("w"),
        # unanswered questions (NULL) rank after every answered one on both engines
        func.row_number().over(partition_by=key, order_by=wait.asc().nulls_last()).label("rn"),
        func.count().over(partition_by=key).label("n"),
        func.count(wait).over(partition_by=key).label("a"),
    ).subquery("ranked")
    r = ranked.c
    # 1-based ranks among the answered: the middle one or two, and metrics._quantile's
    # element for 0.9 (index int(0.9·a), which is 9·a div 10 exactly for counts)
    wanted = or_(
        r.rn == 1,
        and_(r.rn >= (r.a + 1) // 2, r.rn <= r.a // 2 + 1),
        r.rn == func.min(r.a, (9 * r.a) // 10 + 1)
        if conn.dialect.name == "sqlite"
        else r.rn == func.least(r.a, (9 * r.a) // 10 + 1),
    )
    rows: dict[int, list[Any]] = {}
    for k, w, rn, n, a in conn.execute(select(r.k, r.w, r.rn, r.n, r.a).where(wanted)).all():
        got = rows.setdefault(int(k), [int(n), int(a), {}])
        if w is not None:
            got[2][int(rn)] = int(w) / 10**6 / 60  # = timedelta.total_seconds() / 60
    out = {}
    for k, (n, a, at) in rows.items():
        if a == 0:
            out[k] = Waits(n, 0, None, None)
            continue
        if a % 2:
            median = at[(a + 1) // 2]
        else:
            median = (at[a // 2] + at[a // 2 + 1]) / 2  # as statistics.median
        out[k] = Waits(n, a, median, at[min(a, (9 * a) // 10 + 1)])
    return out


def _asked(
    conn: Connection,
    gids: list[int],
    after: datetime,
    before: datetime,
    until: datetime,
    bots: list[int] | None,
) -> Select[Any]:
    """One row per question by a human: its group and wait in µs (NULL: unanswered)."""
    q, e = questions.c, events.alias("answer").c
    asker, speaker = identities.alias("asker"), identities.alias("speaker")
    if bots is None:
        human_speaker: ColumnElement[bool] = exists(
            select(speaker.c.id).where(speaker.c.id == e.actor_id, speaker.c.is_bot == false())
        )
    elif bots:
        human_speaker = and_(e.actor_id.is_not(None), e.actor_id.not_in(bots))
    else:
        human_speaker = e.actor_id.is_not(None)
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
    stmt = select(q.group_id, _micros_between(conn, q.ts, first_answer).label("wait")).where(
        q.group_id.in_(gids), q.ts >= after, q.ts < min(before, until)
    )
    if bots is None:
        return stmt.join(asker, asker.c.id == q.actor_id).where(asker.c.is_bot == false())
    return stmt.where(q.actor_id.not_in(bots)) if bots else stmt


def _micros_between(
    conn: Connection, start: ColumnElement[Any], end: ColumnElement[Any]
) -> ColumnElement[Any]:
    """``end − start`` in whole microseconds, computed by the store.

    Turning two timestamps per question into datetimes only to subtract them was
    most of this query's cost; SQLite keeps times as integer µs already, and
    PostgreSQL's epoch of an interval is an exact numeric.
    """
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", end - start) * 1_000_000
    return type_coerce(end, BigInteger) - type_coerce(start, BigInteger)


def section(
    conn: Connection, group_ids: Iterable[int], after: datetime, before: datetime, until: datetime
) -> dict[str, Any]:
    """The report's ``response`` section over all the groups' questions together."""
    pooled = waits(conn, group_ids, after, before, until, per_group=False)
    return pooled.get(0, Waits(0, 0, None, None)).section()


def medians(
    conn: Connection,
    group_ids: Iterable[int],
    after: datetime,
    before: datetime,
    bots: list[int] | None = None,
) -> dict[int, float | None]:
    """Median minutes to first response per group, rounded like the report (health)."""
    got = waits(conn, group_ids, after, before, before, per_group=True, bots=bots)
    return {g: _round(w.median_minutes) for g, w in got.items()}
