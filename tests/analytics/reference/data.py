"""Loading what the metrics need for a scope, once, from rollups and memberships.

Metrics are then pure functions over :class:`ScopeData` (metrics.py), which
keeps them testable by hand and lets one report share a single read of the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from qunyun.analytics.scope import Scope, local_day
from qunyun.store.schema import (
    events,
    group_hourly,
    identities,
    join_daily,
    member_daily,
    memberships,
    questions,
)

#: how far past the range member activity is read (retention looks 12 weeks on)
LOOK_AHEAD_DAYS = 12 * 7 + 7
#: how far before the range (lifecycle "silent" looks back 30 days)
LOOK_BACK_DAYS = 31


@dataclass(frozen=True, slots=True)
class Member:
    """A human's membership of one group, with its days in local time."""

    group_id: int
    identity_id: int
    person_id: int
    name: str | None
    entry_day: int  # first join, or first seen when the history has no join
    joined_at: datetime | None  # exact first join, when known
    exit_day: int | None  # only when the membership is over now
    join_method: str
    channel: str  # channel code, invite link, "identity:<id>" of inviter, or ""
    message_count: int


@dataclass
class ScopeData:
    scope: Scope
    members: list[Member] = field(default_factory=list)
    #: (group_id, local_hour) -> [messages, effective, questions, bot, joins, exits],
    #: for the hours of the range only
    hourly: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    #: (group_id, identity_id) -> {local_day: (messages, effective)}
    daily: dict[tuple[int, int], dict[int, tuple[int, int]]] = field(default_factory=dict)
    #: (local_day, method, source, group_id) -> joins
    joins: dict[tuple[int, str, str, int], int] = field(default_factory=dict)
    #: newest local day with any data in the scope (end of the known world)
    data_end_day: int = 0


def load(conn: Connection, scope: Scope) -> ScopeData:
    data = ScopeData(scope)
    gids = scope.group_ids
    zones = {g.id: scope.zone(g.id) for g in scope.groups}
    m = memberships.c
    q = (
        select(
            m.group_id,
            m.identity_id,
            m.person_id,
            identities.c.display_name,
            m.first_joined_at,
            m.last_joined_at,
            m.last_left_at,
            m.first_seen_at,
            m.join_method,
            m.channel_code,
            m.invite_link,
            m.invited_by_id,
            m.message_count,
        )
        .join(identities, identities.c.id == m.identity_id)
        .where(m.group_id.in_(gids), identities.c.is_bot.is_(False))
    )
    for r in conn.execute(q).all():
        tz = zones[r.group_id]
        entry = r.first_joined_at or r.first_seen_at
        over = r.last_left_at is not None and (
            r.last_joined_at is None or r.last_left_at >= r.last_joined_at
        )
        channel = (
            r.channel_code
            or r.invite_link
            or (f"identity:{r.invited_by_id}" if r.invited_by_id else "")
        )
        data.members.append(
            Member(
                r.group_id,
                r.identity_id,
                r.person_id,
                r.display_name,
                local_day(entry, tz),
                r.first_joined_at,
                local_day(r.last_left_at, tz) if over else None,
                r.join_method,
                channel,
                r.message_count,
            )
        )
    lo, hi = scope.first_day - LOOK_BACK_DAYS, scope.last_day + LOOK_AHEAD_DAYS
    h = group_hourly.c
    for hr in conn.execute(
        select(
            h.group_id,
            h.local_hour,
            h.messages,
            h.effective,
            h.questions,
            h.bot_messages,
            h.joins,
            h.exits,
        ).where(
            h.group_id.in_(gids),
            h.local_hour >= scope.first_day * 24,
            h.local_hour < (scope.last_day + 1) * 24,
        )
    ):
        data.hourly[(hr[0], hr[1])] = list(hr[2:])
    newest = conn.execute(
        select(func.max(h.local_hour)).where(h.group_id.in_(gids), h.local_hour < (hi + 1) * 24)
    ).scalar()
    data.data_end_day = int(newest) // 24 if newest is not None else 0
    d = member_daily.c
    for g, day, ident, msgs, eff in conn.execute(
        select(d.group_id, d.local_day, d.identity_id, d.messages, d.effective).where(
            d.group_id.in_(gids), d.local_day >= lo, d.local_day <= hi
        )
    ):
        data.daily.setdefault((g, ident), {})[day] = (msgs, eff)
    j = join_daily.c
    for g, day, method, source, n in conn.execute(
        select(j.group_id, j.local_day, j.method, j.source, j.joins).where(
            j.group_id.in_(gids), j.local_day >= scope.first_day, j.local_day <= scope.last_day
        )
    ):
        data.joins[(day, method, source, g)] = n
    return data


@dataclass(frozen=True, slots=True)
class Said:
    """One human message, as the response-time metric needs it."""

    group_id: int
    ts: datetime
    actor_id: int
    question: bool


def messages(conn: Connection, scope: Scope, after: datetime, before: datetime) -> Iterator[Said]:
    """Human messages of the scope's groups in [after, before), in time order per group.

    Reads only (group, time, author) from the log; which messages are questions comes
    from the ``questions`` rollup, so no payload is decoded here.
    """
    e, qs = events.c, questions.c
    asked = set(
        conn.execute(
            select(qs.event_id).where(
                qs.group_id.in_(scope.group_ids), qs.ts >= after, qs.ts < before
            )
        ).scalars()
    )
    q = (
        select(e.id, e.group_id, e.ts, e.actor_id)
        .join(identities, identities.c.id == e.actor_id)
        .where(
            and_(
                e.group_id.in_(scope.group_ids),
                e.kind == "message",
                e.ts >= after,
                e.ts < before,
                identities.c.is_bot.is_(False),
            )
        )
        .order_by(e.group_id, e.ts, e.id)
    )
    for eid, g, ts, actor in conn.execute(q):
        yield Said(g, ts, actor, eid in asked)
