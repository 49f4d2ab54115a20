"""Rollups: the counts dashboards and reports read instead of scanning the event log.

Additive tables, in each group's local time (see store/schema.py):
``group_hourly`` (messages, effective, questions, bot messages, joins, exits per
local hour), ``group_daily`` (the same per local day, for sums over months),
``member_daily`` (each human's messages per local day) and ``join_daily`` (joins
per day by method and source); and ``questions`` with each one's first answer.

They are folded **in the same transaction** that appends the events, from the
events that were new, so they never lag and a crash rolls both back together;
every count is a sum, so the order events arrive in does not matter. The highest
event id folded is kept in ``rollup_state`` as the fill position: a store whose
events were written without folding (an older qunyun, a bulk load) is caught up
from there, and ``rebuild`` recomputes everything from the log. A test proves
incremental == rebuild.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache, partial
from itertools import chain
from operator import add, itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, Engine, func, literal, select, tuple_

from qunyun.analytics.classify import is_effective, is_question
from qunyun.events import MEMBER_EXIT_KINDS
from qunyun.store.ingest import WriteResult
from qunyun.store.schema import (
    UtcDateTime,
    events,
    from_micros,
    group_daily,
    group_hourly,
    groups,
    identities,
    join_daily,
    member_daily,
    questions,
    rollup_state,
    to_micros,
)

NAME = "rollups"
_EXITS = frozenset(k.value for k in MEMBER_EXIT_KINDS)
_HOUR_US = 3_600_000_000


class Stored(NamedTuple):
    """An event as the rollups need it: ids resolved, time in UTC micros.

    The same shape as :attr:`WriteResult.rows`, so a written batch is folded as it
    comes. ``info`` is :func:`message_info` of a message (or None: then it is
    worked out from ``payload_json``) and (method, channel_code, invite_link) of a
    join.
    """

    id: int
    kind: str
    ts: int
    group_id: int
    actor_id: int | None
    target_id: int | None
    info: Any
    actor_is_bot: bool
    payload_json: str | None = None


EFFECTIVE = 1
QUESTION = 2
_GROUP_COUNTS = ("messages", "effective", "questions", "bot_messages", "joins", "exits")


def message_info(payload: dict[str, Any]) -> int:
    """What the rollups count of a message, from its payload alone: EFFECTIVE | QUESTION.

    Whether the author is a bot is not known here; the fold checks that. Computed
    where the events are packed (the import's reader process), off the writer.
    """
    if not is_effective(payload):
        return 0
    return EFFECTIVE | QUESTION if is_question(payload.get("text") or "") else EFFECTIVE


def _info(kind: str, payload: dict[str, Any]) -> Any:
    if kind == "message":
        return message_info(payload)
    if kind == "join":
        p = payload
        return (str(p.get("method") or "unknown"), p.get("channel_code"), p.get("invite_link"))
    return None


class Counts(NamedTuple):
    """A batch's rollup rows, each list in the column order of its upsert."""

    hourly: dict[tuple[int, int], list[int]]
    days: dict[tuple[int, int], list[int]]
    daily: dict[tuple[int, int, int], list[int]]
    joins: dict[tuple[int, int, str, str], int]
    asked: list[tuple[int, int, int, int]]
    #: group → earliest UTC hour it has an event in
    lows: dict[int, int]


class LocalClock:
    """UTC micros → local hour number, per group: floor((ts + offset at ts) / 1 h).

    The offset is that of the event's own instant, and need not be whole hours
    (India +05:30, Nepal +05:45, Chatham +12:45, Lord Howe's 30-minute DST), so an
    event's local hour is not its UTC hour shifted: a UTC hour of Kolkata spreads
    over two local hours. What is cached, per (zone, UTC hour), is the offset in
    micros, when it is the same at the hour's first and last second; an hour with
    a transition inside (they happen at local wall-clock times: Adelaide's at 16:30
    UTC) is marked :data:`MIXED` and its events are looked up one by one. Keyed by
    zone, not by group, so a thousand groups in one zone share one small table.
    """

    def __init__(self) -> None:
        self._zone: dict[int, str] = {}
        self._offsets: dict[str, dict[int, int]] = {}

    def load(self, conn: Connection, group_ids: Iterable[int]) -> None:
        missing = set(group_ids) - self._zone.keys()
        if missing:
            q = select(groups.c.id, groups.c.tz).where(groups.c.id.in_(missing))
            for gid, tz in conn.execute(q):
                self.set_zone(gid, tz)

    def set_zone(self, gid: int, tz: str) -> None:
        """Say group ``gid`` lives in ``tz`` (what :meth:`load` reads from the store)."""
        self._zone[gid] = tz
        self._offsets.setdefault(tz, {})

    def offsets_of(self, gid: int) -> dict[int, int]:
        """The UTC-hour → offset (micros, or MIXED) table of a group's zone, as filled
        so far by :meth:`hour_offset`."""
        return self._offsets[self._zone[gid]]

    def hour_offset(self, gid: int, utc_hour: int) -> int:
        """The zone's offset in micros all through ``utc_hour``, or MIXED when it changes
        inside; cached."""
        table = self._offsets[self._zone[gid]]
        got = table.get(utc_hour)
        if got is None:
            zone = ZoneInfo(self._zone[gid])
            first = _offset_us(zone, utc_hour * 3600)
            got = first if first == _offset_us(zone, utc_hour * 3600 + 3599) else MIXED
            table[utc_hour] = got
        return got

    def offset_at(self, gid: int, ts: int) -> int:
        """The zone's offset in micros at the instant ``ts`` (UTC micros), uncached.

        Transitions fall on whole seconds, so the second ``ts`` is in decides.
        """
        return _offset_us(ZoneInfo(self._zone[gid]), ts // 1_000_000)

    def local_hour(self, gid: int, ts: int) -> int:
        """Hours since 1970-01-01T00:00 on the group's wall clock, at ``ts``."""
        off = self.hour_offset(gid, ts // _HOUR_US)
        if off == MIXED:
            off = self.offset_at(gid, ts)
        return (ts + off) // _HOUR_US


#: a UTC hour with an offset change inside (never a real offset: those are whole seconds)
MIXED = -1


def _offset_us(zone: ZoneInfo, second: int) -> int:
    """``zone``'s UTC offset at the POSIX ``second``, in micros.

    Through ``fromtimestamp(second, zone)``, which places the instant in the zone:
    ``zone.utcoffset(dt)`` would read ``dt``'s fields as *local* wall-clock time,
    whatever its tzinfo, and answer for an instant hours away near a transition.
    """
    offset = datetime.fromtimestamp(second, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return (offset.days * 86_400 + offset.seconds) * 1_000_000 + offset.microseconds


def from_write(result: WriteResult) -> list[Stored]:
    """The new events of an ingest batch, in the shape the rollups take."""
    return [Stored._make(r) for r in result.rows]


class Rollups:
    """Folds stored events into the rollup tables; one per writer (caches zones)."""

    def __init__(self) -> None:
        self.clock = LocalClock()

    def on_written(self, conn: Connection, result: WriteResult) -> None:
        """Hook for :func:`qunyun.importing.run_import`."""
        self.fold(conn, result.rows)

    def fold(self, conn: Connection, batch: Sequence[tuple[Any, ...]]) -> None:
        """Add ``batch`` (:class:`Stored` rows, or plain tuples of that shape) to the rollups.

        The collector is paused meanwhile: the fold makes a few hundred thousand lists
        and tuples per million events, none in a cycle, all freed when it returns, and
        collections triggered halfway through walked them (and every batch row still
        alive) again and again — a fifth of the fold's time.
        """
        if not batch:
            return
        self.clock.load(conn, set(map(itemgetter(3), batch)))
        paused = gc.isenabled()
        gc.disable()
        try:
            _write(conn, self.aggregate(batch))  # all freed on return, before collecting
        finally:
            if paused:
                gc.enable()
        _advance(conn, max(map(itemgetter(0), batch)))

    def aggregate(self, batch: Sequence[tuple[Any, ...]]) -> Counts:
        """The rollup rows of ``batch``: what :meth:`fold` adds to the tables.

        The loop touches each event once, with the bucket it fell into last time and
        the span of instants that share it (one local hour within one UTC hour) kept
        at hand: events arrive in time order per group, so most of them land in the
        span of the one before, and only a new span costs a look at the zone's
        offsets. The zones of the batch's groups must be loaded (:meth:`LocalClock.load`).
        """
        clock = self.clock
        # values are the rows the upserts take: [*key, *counts]
        hourly: dict[tuple[int, int], list[int]] = {}
        daily: dict[tuple[int, int, int], list[int]] = {}
        joins: dict[tuple[int, int, str, str], int] = {}
        asked: list[tuple[int, int, int, int]] = []
        tables: dict[int, dict[int, int]] = {}
        lows: dict[int, int] = {}  # group → earliest UTC hour it has an event in
        last_gid = -1
        lo = hi = hour = day = 0  # [lo, hi): the instants of the current bucket
        h: list[int] = []
        hourly_get, daily_get = hourly.get, daily.get
        for eid, kind, ts, gid, aid, tid, info, bot, pj in batch:
            if ts >= hi or ts < lo or gid != last_gid:
                # A new span: one local hour within one UTC hour (at a whole-hour
                # offset both are the same hour, at +05:30 a half of each), so the
                # offset and the group's earliest UTC hour change only here.
                last_gid = gid
                uh = ts // _HOUR_US
                table = tables.get(gid)
                if table is None:
                    table = tables[gid] = clock.offsets_of(gid)
                off = table.get(uh)
                if off is None:
                    off = clock.hour_offset(gid, uh)
                if off == MIXED:  # a transition inside: this event alone
                    hour = clock.local_hour(gid, ts)
                    lo, hi = ts, ts + 1
                else:
                    hour = (ts + off) // _HOUR_US
                    base, edge = uh * _HOUR_US, hour * _HOUR_US - off
                    lo, hi = (edge, base + _HOUR_US) if edge > base else (base, edge + _HOUR_US)
                day = hour // 24
                low = lows.get(gid)
                if low is None or uh < low:
                    lows[gid] = uh
                hk = (gid, hour)
                got = hourly_get(hk)
                if got is None:
                    got = hourly[hk] = [gid, hour, 0, 0, 0, 0, 0, 0]
                h = got
            if kind == "message":
                h[2] += 1
                if bot or aid is None:
                    h[5] += 1
                    continue
                if info is None:
                    info = message_info(orjson.loads(pj))
                dk = (gid, day, aid)
                d = daily_get(dk)
                if info & EFFECTIVE:
                    h[3] += 1
                    if info & QUESTION:
                        h[4] += 1
                        asked.append((eid, gid, ts, aid))
                    if d is None:
                        daily[dk] = [gid, day, aid, 1, 1]
                    else:
                        d[3] += 1
                        d[4] += 1
                elif d is None:
                    daily[dk] = [gid, day, aid, 1, 0]
                else:
                    d[3] += 1
            elif kind == "join":
                h[6] += 1
                method, code, link = info
                key = (gid, day, method, _join_source(code, link, aid, tid))
                joins[key] = joins.get(key, 0) + 1
            elif kind in _EXITS:
                h[7] += 1
        days: dict[tuple[int, int], list[int]] = {}
        for row in hourly.values():
            dk2 = (row[0], row[1] // 24)
            got = days.get(dk2)
            if got is None:
                days[dk2] = [*dk2, *row[2:]]
            else:
                got[2:] = map(add, got[2:], row[2:])
        return Counts(hourly, days, daily, joins, asked, lows)


def _write(conn: Connection, counts: Counts) -> None:
    """Add a batch's counts to the tables, many rows to a statement.

    One multi-row ``INSERT … ON CONFLICT`` per few hundred rows costs SQLite half
    of what a statement per row does (executemany): the rows of one batch have
    distinct keys, so no statement touches a row twice, as PostgreSQL requires.
    """
    pg = conn.dialect.name == "postgresql"
    hourly, days, daily, joins, asked, lows = counts
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        add = partial(_add_rows, cursor, pg)
        add("group_hourly", ("group_id", "local_hour"), _GROUP_COUNTS, list(hourly.values()))
        add("group_daily", ("group_id", "local_day"), _GROUP_COUNTS, list(days.values()))
        add(
            "member_daily",
            ("group_id", "local_day", "identity_id"),
            ("messages", "effective"),
            list(daily.values()),
        )
        add(
            "join_daily",
            ("group_id", "local_day", "method", "source"),
            ("joins",),
            [(*k, n) for k, n in joins.items()],
        )
        add(
            "questions",
            ("event_id",),
            ("group_id", "ts", "actor_id"),
            [(i, g, from_micros(t), a) for i, g, t, a in asked] if pg else asked,
            counted=False,
        )
        # questions this batch may answer (the new ones among them); see ANSWER
        cursor.executemany(
            ANSWER.replace("?", "%s") if pg else ANSWER,
            [(g, g, from_micros(u * _HOUR_US) if pg else u * _HOUR_US) for g, u in lows.items()],
        )
    finally:
        cursor.close()


#: rows per multi-row statement (SQLite binds at most 32,766 values in one)
_ROWS_PER_STATEMENT = 500


def _add_rows(
    cursor: Any,
    pg: bool,
    table: str,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    counted: bool = True,
) -> None:
    """Insert ``rows`` (key columns, then value columns) into ``table``; where a key is
    there already, add the values to its counts (``counted``) or leave it."""
    n = _ROWS_PER_STATEMENT
    for start in range(0, len(rows), n):
        chunk = rows[start : start + n]
        sql = _add_sql(table, keys, values, pg, len(chunk), counted)
        cursor.execute(sql, list(chain.from_iterable(chunk)))


#: Re-find the first answer of a group's questions that a message at or after the
#: given instant could answer sooner: the unanswered ones (new questions among them)
#: and those answered later than that. The first answer is the group's next message
#: in log order (time, then id) by another human, as docs/metrics.md defines it;
#: the (group_id, ts) index of the log finds it in a step or two. Events arriving in
#: time order leave only the batch's own questions to search; an old message
#: arriving late re-finds the answers it may precede. The two kinds of question are
#: picked by two ranges of the (group_id, answered_at) index: written as one
#: ``answered_at IS NULL OR answered_at > ?``, SQLite walked every question the group
#: ever had, on every batch. Parameters: group id, group id, instant.
ANSWER = (
    "UPDATE questions SET answered_at = ("
    "SELECT e.ts FROM events e JOIN identities s ON s.id = e.actor_id "
    "WHERE e.group_id = questions.group_id AND e.ts >= questions.ts "
    "AND (e.ts > questions.ts OR e.id > questions.event_id) "
    "AND e.kind = 'message' AND e.actor_id <> questions.actor_id AND s.is_bot = false "
    "ORDER BY e.ts LIMIT 1) "
    "WHERE event_id IN ("
    "SELECT event_id FROM questions WHERE group_id = ? AND answered_at IS NULL "
    "UNION ALL SELECT event_id FROM questions WHERE group_id = ? AND answered_at > ?)"
)


def _join_source(code: Any, link: Any, actor_id: int | None, target_id: int | None) -> str:
    code = code or link
    if code:
        return str(code)[:255]
    if actor_id is not None and actor_id != target_id:
        return f"identity:{actor_id}"
    return ""


@lru_cache(maxsize=64)
def _add_sql(
    table: str, keys: tuple[str, ...], values: tuple[str, ...], pg: bool, rows: int, counted: bool
) -> str:
    ph = "%s" if pg else "?"
    cols = (*keys, *values)
    row = f"({', '.join([ph] * len(cols))})"
    if counted:
        sets = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values)
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({', '.join(keys)}) {action}"
    )


def _advance(conn: Connection, position: int) -> None:
    hi = "GREATEST" if conn.dialect.name == "postgresql" else "max"
    ph = "%s" if conn.dialect.name == "postgresql" else "?"
    conn.exec_driver_sql(
        f"INSERT INTO rollup_state (name, position) VALUES ({ph}, {ph}) ON CONFLICT (name) "
        f"DO UPDATE SET position = {hi}(rollup_state.position, excluded.position)",
        (NAME, position),
    )


def position(conn: Connection) -> int:
    row = conn.execute(select(rollup_state.c.position).where(rollup_state.c.name == NAME)).first()
    return int(row[0]) if row else 0


def _log_after(conn: Connection, after: int, limit: int) -> Iterator[Stored]:
    e = events.c
    q = (
        select(
            e.id, e.kind, e.ts, e.group_id, e.actor_id, e.target_id, e.payload, identities.c.is_bot
        )
        .select_from(events.outerjoin(identities, identities.c.id == e.actor_id))
        .where(e.id > after)
        .order_by(e.id)
        .limit(limit)
    )
    return _stored(conn.execute(q))


def _stored(rows: Iterable[Any]) -> Iterator[Stored]:
    for r in rows:
        payload = r.payload if isinstance(r.payload, dict) else orjson.loads(r.payload)
        yield Stored(
            r.id,
            r.kind,
            to_micros(r.ts),
            r.group_id,
            r.actor_id,
            r.target_id,
            _info(r.kind, payload),
            bool(r.is_bot),
        )


def catch_up(engine: Engine, chunk: int = 20_000) -> int:
    """Fold every event past the fill position; returns how many were folded."""
    folder = Rollups()
    done = 0
    while True:
        with engine.begin() as conn:
            batch = list(_log_after(conn, position(conn), chunk))
            folder.fold(conn, batch)
        done += len(batch)
        if len(batch) < chunk:
            return done


def rebuild(engine: Engine) -> int:
    """Recompute every rollup from the event log (after a zone change, or to verify)."""
    with engine.begin() as conn:
        for t in (group_hourly, group_daily, member_daily, join_daily, questions):
            conn.execute(t.delete())
        conn.execute(rollup_state.delete().where(rollup_state.c.name == NAME))
    return catch_up(engine)


def rebuild_groups(engine: Engine, group_ids: Iterable[int]) -> None:
    """Recompute the rollups of some groups (their time zone changed), leaving the rest."""
    with engine.begin() as conn:
        refold(conn, group_ids)


def refold(conn: Connection, group_ids: Iterable[int], chunk: int = 20_000) -> None:
    """Recompute the rollups of some groups from their events, inside ``conn``'s transaction.

    The fill position is left where it was: these groups' events were folded
    before and are folded again now, everyone else's are untouched. A caller that
    rolls the transaction back (``qunyun report --tz``) has changed nothing.
    """
    gids = sorted(set(group_ids))
    if not gids:
        return
    for t in (group_hourly, group_daily, member_daily, join_daily, questions):
        conn.execute(t.delete().where(t.c.group_id.in_(gids)))
    keep = position(conn)
    folder = Rollups()
    for gid in gids:
        after: tuple[datetime, int] | None = None
        while True:
            batch = list(_group_log(conn, gid, after, keep, chunk))
            if not batch:
                break
            folder.fold(conn, batch)
            after = (from_micros(batch[-1].ts), batch[-1].id)
    _set(conn, keep)


def _group_log(
    conn: Connection, gid: int, after: tuple[datetime, int] | None, upto: int, limit: int
) -> Iterator[Stored]:
    """One group's events up to the fill position, in (time, id) order.

    Walks the (group_id, ts) index, so a small group of a big store costs its own
    events, not a scan of the log; events past the fill position are left for
    :func:`catch_up`, which would otherwise fold them a second time.
    """
    e = events.c
    where = [e.group_id == gid, e.id <= upto]
    if after is not None:
        where.append(tuple_(e.ts, e.id) > tuple_(literal(after[0], UtcDateTime()), after[1]))
    q = (
        select(
            e.id, e.kind, e.ts, e.group_id, e.actor_id, e.target_id, e.payload, identities.c.is_bot
        )
        .select_from(events.outerjoin(identities, identities.c.id == e.actor_id))
        .where(*where)
        .order_by(e.ts, e.id)
        .limit(limit)
    )
    return _stored(conn.execute(q))


def _set(conn: Connection, value: int) -> None:
    conn.execute(rollup_state.delete().where(rollup_state.c.name == NAME))
    conn.execute(rollup_state.insert().values(name=NAME, position=value))


def lag(conn: Connection) -> int:
    """Events in the log not yet folded (0 when rollups are current)."""
    newest = conn.execute(select(func.max(events.c.id))).scalar() or 0
    return max(0, int(newest) - position(conn))
