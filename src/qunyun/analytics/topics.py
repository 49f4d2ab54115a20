"""The keywords section of a report: top terms, rising and falling terms, a word cloud.

Terms are counted once per message (see terms.py) over the effective human
messages of the range, and compared with the period of equal length just before.
Tokenising costs tens of microseconds a message, so a very large scope is read as
an even sample (every k-th message by id) of at most ``SAMPLE_CAP`` messages per
period; the document says when it was sampled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, select

from qunyun.analytics.classify import is_effective
from qunyun.analytics.keywords import default_tokenizer
from qunyun.analytics.scope import Scope
from qunyun.analytics.terms import TermCounter, top_terms, trends
from qunyun.analytics.wordcloud import render_svg
from qunyun.store.schema import events, group_hourly, identities

SAMPLE_CAP = 20_000


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
    e = events.c
    q = (
        select(e.actor_id, e.payload)
        .join(identities, identities.c.id == e.actor_id)
        .where(
            and_(
                e.group_id.in_(scope.group_ids),
                e.kind == "message",
                e.ts >= start,
                e.ts < end,
                identities.c.is_bot.is_(False),
            )
        )
    )
    if step > 1:
        q = q.where(e.id % step == 0)
    tok = default_tokenizer()
    counter = TermCounter(track_speakers=True)
    for actor, payload in conn.execute(q):
        p = payload if isinstance(payload, dict) else orjson.loads(payload)
        if not is_effective(p):
            continue
        text = p.get("text")
        if text:
            counter.add(tok.tokenize(text), str(actor))
    return counter, step > 1


def _effective_estimate(conn: Connection, scope: Scope, start: datetime, end: datetime) -> int:
    """Effective messages in [start, end) from the rollups (UTC hour ≈ local hour ± zone)."""
    h = group_hourly.c
    lo = int(start.timestamp()) // 3600 - 14
    hi = int(end.timestamp()) // 3600 + 14
    n = conn.execute(
        select(func.coalesce(func.sum(h.effective), 0)).where(
            h.group_id.in_(scope.group_ids), h.local_hour >= lo, h.local_hour < hi
        )
    ).scalar()
    return int(n or 0)
