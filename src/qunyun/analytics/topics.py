"""The keywords section of a report: top terms, rising and falling terms, a word cloud.

Terms are counted once per message (see terms.py) over the effective human
messages of the range, and compared with the period of equal length just before.
Tokenising costs tens of microseconds a message, so a very large scope is read as
an even sample (every k-th message by id) of at most ``SAMPLE_CAP`` messages per
period; the document says when it was sampled.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from qunyun.analytics.classify import is_effective_text
from qunyun.analytics.keywords import default_tokenizer
from qunyun.analytics.scope import Scope
from qunyun.analytics.terms import TermCounter, top_terms, trends
from qunyun.analytics.wordcloud import render_svg
from qunyun.store.queries import placeholders, plain_rows
from qunyun.store.schema import group_hourly

SAMPLE_CAP = 20_000
#: hours the westernmost (UTC-12:00) and easternmost (UTC+14:00) zones are from UTC
_WEST_HOURS, _EAST_HOURS = 12, 14


def keywords(
    conn: Connection, scope: Scope, start: datetime, end: datetime, *, cloud: bool = True
) -> dict[str, Any]:
    span = end - start
    now, sampled = _count(conn, scope, start, end)
    before, _ = _count(conn, scope, start - span, start)
    top = top_terms(now.df, 30)
    speakers = now.speakers()
    moves = trends(
        now.df, before.df, 10, current_total=now.messages, previous_total=before.messages
    )
    doc: dict[str, Any] = {
        "messages_analysed": now.messages,
        "previous_messages_analysed": before.messages,
        "sampled": sampled,
        "top": [{"term": t, "count": c, "speakers": speakers.get(t, 0)} for t, c in top],
        "rising": [
            {
                "term": t.term,
                "score": round(t.score, 3),
                "current": t.current,
                "previous": t.previous,
            }
            for t in moves.rising
        ],
        "falling": [
            {
                "term": t.term,
                "score": round(t.score, 3),
                "current": t.current,
                "previous": t.previous,
            }
            for t in moves.falling
        ],
    }
    if cloud and top:
        doc["wordcloud_svg"] = render_svg(top_terms(now.df, 80), title="keywords")
    return doc


def _count(
    conn: Connection, scope: Scope, start: datetime, end: datetime
) -> tuple[TermCounter, bool]:
    expected = _effective_estimate(conn, scope, start, end)
    step = max(1, -(-expected // SAMPLE_CAP))
    # the store takes type and text out of the payload: decoding whole payloads in
    # Python was a third of a busy group's report
    if conn.dialect.name == "postgresql":
        mtype, text = "e.payload->>'type'", "e.payload->>'text'"
    else:
        mtype, text = "json_extract(e.payload, '$.type')", "json_extract(e.payload, '$.text')"
    rows = plain_rows(
        conn,
        f"SELECT e.actor_id, {mtype}, {text} FROM events e "
        "JOIN identities i ON i.id = e.actor_id "
        f"WHERE e.group_id IN ({placeholders(len(scope.group_ids))}) AND e.kind = 'message' "
        "AND e.ts >= ? AND e.ts < ? AND i.is_bot = ?" + (" AND e.id % ? = 0" if step > 1 else ""),
        (*scope.group_ids, start, end, False, *((step,) if step > 1 else ())),
    )
    tok = default_tokenizer()
    counter = TermCounter(track_speakers=True)
    for actor, kind, said in rows:
        if said and isinstance(said, str) and is_effective_text(kind, said):
            counter.add(tok.tokenize(said), str(actor))
    return counter, step > 1


def _effective_estimate(conn: Connection, scope: Scope, start: datetime, end: datetime) -> int:
    """Effective messages in [start, end) from the rollups, give or take the local
    hours at both ends.

    An instant's local hour is floor((ts + offset) / 1 h), offsets running from
    -12:00 to +14:00 with :30 and :45 ones between: the hours from the floor of the
    start less 12 to the ceiling of the end plus 14 (exclusive) hold every local
    hour the range touches in any zone, whatever its minutes.
    """
    h = group_hourly.c
    lo = math.floor(start.timestamp() / 3600) - _WEST_HOURS
    hi = math.ceil(end.timestamp() / 3600) + _EAST_HOURS
    n = conn.execute(
        select(func.coalesce(func.sum(h.effective), 0)).where(
            h.group_id.in_(scope.group_ids), h.local_hour >= lo, h.local_hour < hi
        )
    ).scalar()
    return int(n or 0)
