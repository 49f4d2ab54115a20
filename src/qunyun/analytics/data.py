"""Reading what the metrics need for a scope, once, from rollups and memberships.

The store does the counting that spans the whole scope — members on a day, distinct
active members, the top contributors, lifecycle stages, hourly sums — and Python
receives those numbers plus the one cohort the metrics follow person by person:
the members who joined in the range (newcomers, joins by source, retention, the
funnel). Loading every membership and member-day instead, as the first version
did, made a report over a thousand groups take 40 s. The metric definitions are
in docs/metrics.md; metrics.py turns this into the report's sections, and
tests/analytics/test_agreement.py holds the result equal to the first version.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    false,
    func,
    or_,
    select,
)

from qunyun.analytics import members as members_mod
from qunyun.analytics.members import day_start, member_before
from qunyun.analytics.scope import Scope, local_day
from qunyun.store.queries import instant, placeholders, plain_rows
from qunyun.store.schema import (
    events,
    group_daily,
    identities,
    join_daily,
    member_daily,
    memberships,
    questions,
)

#: how far past the range newcomers' activity is read (retention looks 12 weeks on)
LOOK_AHEAD_DAYS = 12 * 7 + 7
NEW_DAYS = 14  # lifecycle: "new" = entered less than this many days before the end
SILENT_DAYS = 30  # lifecycle: "silent" = no message in this many days
TOP_CONTRIBUTORS = 10


class Member(NamedTuple):
    """A human's membership of one group, with its days in local time.

    A named tuple: a busy group's year has thousands of newcomers, and a frozen
    dataclass took four times as long to make.
    """

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
    first_message_at: datetime | None = None  # earliest message in the group, ever


class Days(NamedTuple):
    """A newcomer's local days with messages, and with effective messages, ascending."""

    spoke: list[int]
    active: list[int]

    def spoke_from(self, day: int) -> list[int]:
        """The days with messages on or after ``day``."""
        return self.spoke[bisect_left(self.spoke, day) :]

    def active_between(self, first: int, last: int) -> int:
        """How many days in [first, last] had an effective message."""
        a = self.active
        return bisect_left(a, last + 1) - bisect_left(a, first)


NO_DAYS = Days([], [])


@dataclass
class ScopeData:
    scope: Scope
    #: local hour -> [messages, effective, questions, bot, joins, exits] summed over
    #: the scope's groups, for the hours of the range only
    hourly: dict[int, list[int]] = field(default_factory=dict)
    #: members at the end of the day before the range
    members_start: int = 0
    #: members at the end of the last day
    members_end: int = 0
    #: of those, members who have ever sent a message in their group
    members_end_spoken: int = 0
    #: memberships entering / finally leaving on each local day of the range
    entries: Counter[int] = field(default_factory=Counter)
    exits: Counter[int] = field(default_factory=Counter)
    #: members whose first join is in the range
    newcomers: list[Member] = field(default_factory=list)
    #: (group_id, identity_id) of a newcomer -> their days with messages, from the
    #: range's first day to LOOK_AHEAD_DAYS past its end (absent: none)
    daily: dict[tuple[int, int], Days] = field(default_factory=dict)
    #: local day -> members with an effective message that day (days of the range)
    active_by_day: dict[int, int] = field(default_factory=dict)
    #: distinct (group, member) pairs active in the range, its last 7 and last 30 days
    active_range: int = 0
    active_week: int = 0
    active_month: int = 0
    #: group id -> its members active in the last 30 days (health's activity)
    mau: dict[int, int] = field(default_factory=dict)
    #: top persons by effective messages in the range (metrics.top_contributors rows)
    contributors: list[dict[str, Any]] = field(default_factory=list)
    #: lifecycle stage -> members (metrics.lifecycle)
    stages: dict[str, int] = field(default_factory=dict)
    #: (local_day, method, source, group_id) -> joins
    joins: dict[tuple[int, str, str, int], int] = field(default_factory=dict)
    #: identity id -> display name, for inviters named in join sources who are
    #: (human) members of the scope's groups
    inviters: dict[int, str | None] = field(default_factory=dict)
    #: newest local day with any data in the scope (end of the known world)
    data_end_day: int = 0

    def days_of(self, m: Member) -> Days:
        """A newcomer's active days (none when they never wrote in the days read)."""
        return self.daily.get((m.group_id, m.identity_id), NO_DAYS)


def load(conn: Connection, scope: Scope) -> ScopeData:
    data = ScopeData(scope)
    gids = scope.group_ids
    first, last = scope.first_day, scope.last_day
    _hourly(conn, data)
    settled = _membership_counts(conn, data)
    _entries_and_exits(conn, data)
    _newcomers(conn, data)
    _active_by_day(conn, data)
    _per_member(conn, data, settled)
    j = join_daily.c
    for g, day, method, source, n in conn.execute(
        select(j.group_id, j.local_day, j.method, j.source, j.joins).where(
            j.group_id.in_(gids), j.local_day >= first, j.local_day <= last
        )
    ).all():
        data.joins[(day, method, source, g)] = n
    data.inviters = _inviters(conn, gids, {k[2] for k in data.joins})
    d = group_daily.c
    hi = last + LOOK_AHEAD_DAYS
    newest = conn.execute(
        select(func.max(d.local_day)).where(d.group_id.in_(gids), d.local_day <= hi)
    ).scalar()
    data.data_end_day = int(newest) if newest is not None else 0
    return data


def _hourly(conn: Connection, data: ScopeData) -> None:
    s = data.scope
    # a year of a group is 8,760 rows: read as the driver's tuples
    rows = plain_rows(
        conn,
        "SELECT local_hour, sum(messages), sum(effective), sum(questions), "
        "sum(bot_messages), sum(joins), sum(exits) FROM group_hourly "
        f"WHERE group_id IN ({placeholders(len(s.group_ids))}) "
        "AND local_hour >= ? AND local_hour < ? GROUP BY local_hour",
        (*s.group_ids, s.first_day * 24, (s.last_day + 1) * 24),
    )
    data.hourly = {int(r[0]): [int(v) for v in r[1:]] for r in rows}


def _human(q: Any) -> Any:
    """Restrict a select over memberships to human identities."""
    return q.join(identities, identities.c.id == memberships.c.identity_id).where(
        identities.c.is_bot == false()
    )


def _membership_counts(conn: Connection, data: ScopeData) -> ColumnElement[bool]:
    """Members at the start and end, those at the end who ever spoke, lifecycle stages.

    Returns the condition "a member at the end who is not new" (settled: active or
    silent), which :func:`_per_member` splits by whether they spoke lately.
    """
    s, m = data.scope, memberships.c
    end = s.last_day
    totals = [0] * 6  # start, end, end who spoke, churned, new, settled
    settled_in: list[ColumnElement[bool]] = []
    for tz, ids in members_mod.zones(s).items():
        zone = ZoneInfo(tz)
        entry = func.coalesce(m.first_joined_at, m.first_seen_at)
        after_end = day_start(end + 1, zone)
        at_end = member_before(after_end)
        new = entry >= day_start(end - NEW_DAYS + 1, zone)
        settled = and_(at_end, ~new)  # current, not new: active or silent
        settled_in.append(and_(m.group_id.in_(ids), settled))
        conds: list[ColumnElement[bool]] = [
            member_before(day_start(s.first_day, zone)),
            at_end,
            and_(at_end, m.message_count > 0),
            and_(entry < after_end, ~at_end),  # churned
            and_(at_end, new),
            settled,
        ]
        q = _human(select(*(func.sum(case((c, 1), else_=0)) for c in conds))).where(
            m.group_id.in_(ids)
        )
        for i, v in enumerate(conn.execute(q).one()):
            totals[i] += int(v or 0)
    data.members_start, data.members_end, data.members_end_spoken = totals[:3]
    data.stages = {"churned": totals[3], "new": totals[4], "silent": totals[5]}
    return or_(*settled_in) if settled_in else false()


def _entries_and_exits(conn: Connection, data: ScopeData) -> None:
    """Entries and final exits per local day of the range (growth's daily members)."""
    s, m = data.scope, memberships.c
    lo, hi = members_mod.utc_window(s, s.first_day, s.last_day)
    entry = func.coalesce(m.first_joined_at, m.first_seen_at)
    q = _human(
        select(m.group_id, entry, m.last_joined_at, m.last_left_at).where(
            m.group_id.in_(s.group_ids),
            or_(and_(entry >= lo, entry < hi), and_(m.last_left_at >= lo, m.last_left_at < hi)),
        )
    )
    zones = {g.id: ZoneInfo(g.tz) for g in s.groups}
    for g, entered, lj, ll in conn.execute(q).all():
        tz = zones[g]
        day = local_day(entered, tz)
        if s.first_day <= day <= s.last_day:
            data.entries[day] += 1
        if ll is not None and (lj is None or ll >= lj):
            day = local_day(ll, tz)
            if s.first_day <= day <= s.last_day:
                data.exits[day] += 1


def _newcomers(conn: Connection, data: ScopeData) -> None:
    """Members whose first join is in the range, and their days from then on.

    Read as the driver's tuples: through SQLAlchemy's rows and time type, a busy
    group's few thousand newcomers cost three times the store's search.
    """
    s = data.scope
    lo, hi = members_mod.utc_window(s, s.first_day, s.last_day)
    rows = plain_rows(
        conn,
        "SELECT m.group_id, m.identity_id, m.person_id, i.display_name, m.first_joined_at, "
        "m.last_joined_at, m.last_left_at, m.join_method, m.channel_code, m.invite_link, "
        "m.invited_by_id, m.message_count, m.first_message_at "
        "FROM memberships m JOIN identities i ON i.id = m.identity_id "
        f"WHERE m.group_id IN ({placeholders(len(s.group_ids))}) "
        "AND m.first_joined_at >= ? AND m.first_joined_at < ? AND i.is_bot = ?",
        (*s.group_ids, lo, hi, False),
    )
    zones = {g.id: ZoneInfo(g.tz) for g in s.groups}
    first, last = s.first_day, s.last_day
    add = data.newcomers.append
    for g, ident, person, name, joined, lj, ll, method, code, link, by, n, said in rows:
        tz = zones[g]
        joined = instant(joined)
        entry_day = local_day(joined, tz)
        if not first <= entry_day <= last:
            continue  # another zone's edge of the UTC window
        exit_day = None
        if ll is not None and (lj is None or ll >= lj):  # over (both kept alike: comparable)
            exit_day = local_day(instant(ll), tz)
        channel = code or link or (f"identity:{by}" if by else "")
        add(
            Member(
                g,
                ident,
                person,
                name,
                entry_day,
                joined,
                exit_day,
                method,
                channel,
                n,
                instant(said) if said is not None else None,
            )
        )
    if data.newcomers:
        _newcomer_days(conn, data)


def _newcomer_days(conn: Connection, data: ScopeData) -> None:
    """Each newcomer's days with messages and with effective ones, as two lists.

    The store groups a member's days into one row of comma-joined day numbers: a
    busy group's year is ~90k member-days, and one Python row per day cost more than
    the store's whole scan. Only the newcomers' identities are read; rows of one in
    another group of the scope, where they are no newcomer, come too and are never
    looked up.
    """
    s = data.scope
    ids = sorted({m.identity_id for m in data.newcomers})
    if conn.dialect.name == "postgresql":
        days, active, mine = (
            "string_agg(CASE WHEN messages > 0 THEN local_day::text END, ',')",
            "string_agg(CASE WHEN effective > 0 THEN local_day::text END, ',')",
            "identity_id = ANY(?)",
        )
        ids_param: Any = ids
    else:
        days, active, mine = (
            "group_concat(CASE WHEN messages > 0 THEN local_day END)",
            "group_concat(CASE WHEN effective > 0 THEN local_day END)",
            "identity_id IN (SELECT value FROM json_each(?))",
        )
        ids_param = orjson.dumps(ids).decode()
    rows = plain_rows(
        conn,
        f"SELECT group_id, identity_id, {days}, {active} FROM member_daily "
        f"WHERE group_id IN ({placeholders(len(s.group_ids))}) "
        f"AND local_day >= ? AND local_day <= ? AND {mine} GROUP BY group_id, identity_id",
        (*s.group_ids, s.first_day, s.last_day + LOOK_AHEAD_DAYS, ids_param),
    )
    data.daily = {(g, i): Days(_day_list(spoke), _day_list(eff)) for g, i, spoke, eff in rows}


def _day_list(joined: str | None) -> list[int]:
    return sorted(map(int, joined.split(","))) if joined else []


def _active_by_day(conn: Connection, data: ScopeData) -> None:
    """Members with an effective message on each day of the range."""
    s, d = data.scope, member_daily.c
    q = (
        select(d.local_day, func.count())
        .where(
            d.group_id.in_(s.group_ids),
            d.effective > 0,
            d.local_day >= s.first_day,
            d.local_day <= s.last_day,
        )
        .group_by(d.local_day)
    )
    data.active_by_day = {int(day): int(n) for day, n in conn.execute(q).all()}


def _per_member(conn: Connection, data: ScopeData, settled: ColumnElement[bool]) -> None:
    """Everything counted per (group, member) over the range and its last 30 days, in
    one pass over their member-days: distinct active members over three windows (and
    per group, for health), the settled members who spoke lately (lifecycle
    "active"), and the top contributors.

    Five queries over the same member-days did this before, each grouping them again;
    the store now groups once and Python sums a row per member.
    """
    s, d, m = data.scope, member_daily.c, memberships.c
    first, last = s.first_day, s.last_day
    week, month = last - 6, last - SILENT_DAYS + 1
    in_range, eff = d.local_day >= first, d.effective > 0
    per_member = (
        select(
            d.group_id,
            d.identity_id,
            func.sum(case((in_range, d.messages), else_=0)).label("n"),
            func.sum(case((in_range, d.effective), else_=0)).label("e"),
            func.sum(case((and_(in_range, eff), 1), else_=0)).label("a"),
            func.min(case((in_range, d.local_day))).label("f"),
            func.max(case((and_(d.local_day >= week, eff), 1), else_=0)).label("aw"),
            func.max(case((and_(d.local_day >= month, eff), 1), else_=0)).label("am"),
            func.max(case((and_(d.local_day >= month, d.messages > 0), 1), else_=0)).label("sm"),
        )
        .where(d.group_id.in_(s.group_ids), d.local_day >= min(first, month), d.local_day <= last)
        .group_by(d.group_id, d.identity_id)
        .subquery("per_member")
    )
    pm, i = per_member.c, identities.c
    human = and_(m.person_id.is_not(None), i.is_bot == false())
    q = select(
        pm.group_id,
        pm.identity_id,
        pm.n,
        pm.e,
        pm.a,
        pm.f,
        pm.aw,
        pm.am,
        case((and_(human, pm.sm == 1, settled), 1), else_=0),
        case((human, m.person_id)),
        i.display_name,
    ).select_from(
        per_member.outerjoin(
            memberships, and_(m.group_id == pm.group_id, m.identity_id == pm.identity_id)
        ).outerjoin(identities, i.id == m.identity_id)
    )
    active_range = active_week = spoke_lately = 0
    mau: Counter[int] = Counter()
    # person -> [messages, effective, active days, (group, first day, identity), name]
    persons: dict[int, list[Any]] = {}
    for g, ident, n, e, a, f, aw, am, spoke, person, name in conn.execute(q):
        active_range += a > 0
        active_week += aw
        if am:
            mau[g] += 1
        spoke_lately += spoke
        if person is None or f is None:
            continue  # a bot, or only days before the range (its last 30 days)
        first_key = (g, f, ident)
        got = persons.get(person)
        if got is None:
            persons[person] = [n, e, a, first_key, name]
        else:
            got[0] += n
            got[1] += e
            got[2] += a
            if first_key < got[3]:
                got[3], got[4] = first_key, name
    data.active_range, data.active_week = active_range, active_week
    data.active_month, data.mau = sum(mau.values()), dict(mau)
    data.stages["active"] = spoke_lately
    data.stages["silent"] -= spoke_lately
    top = heapq.nsmallest(
        TOP_CONTRIBUTORS, persons.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0])
    )
    data.contributors = [
        {
            "person_id": p,
            "name": v[4],
            "messages": int(v[0]),
            "effective": int(v[1]),
            "active_days": int(v[2]),
        }
        for p, v in top
    ]


def _inviters(conn: Connection, gids: list[int], sources: set[str]) -> dict[int, str | None]:
    ids = {int(x.split(":", 1)[1]) for x in sources if x.startswith("identity:")}
    if not ids:
        return {}
    m = memberships.c
    q = _human(select(m.identity_id, identities.c.display_name)).where(
        m.group_id.in_(gids), m.identity_id.in_(ids)
    )
    return {int(i): name for i, name in conn.execute(q).all()}


@dataclass(frozen=True, slots=True)
class Said:
    """One human message, as the response-time metric needs it."""

    group_id: int
    ts: datetime
    actor_id: int
    question: bool


def messages(conn: Connection, scope: Scope, after: datetime, before: datetime) -> Iterator[Said]:
    """Human messages of the scope's groups in [after, before), in time order per group.

    The input of the pure definition ``metrics.first_response``; reports compute the
    same numbers in SQL (response.py) and tests compare the two on this stream.
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
