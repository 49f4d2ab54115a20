"""Rollups bucket every event by its own local wall-clock time, in any zone.

Offsets need not be whole hours (India +05:30, Nepal +05:45, Chatham +12:45/+13:45,
Lord Howe's 30-minute DST) and change at local wall-clock times (Adelaide's at
16:30 UTC), so an event's local hour is floor((ts + offset at ts) / 1 h) — not
its UTC hour shifted. The definition checked is Python's own: the local hour and
day of ``datetime.fromtimestamp(ts, zone)`` (local_hour = hours since
1970-01-01T00:00 on that wall clock, see store/schema.py), for instants anywhere
from 1900 to 2100 and seconds either side of each zone's transitions, on SQLite
and PostgreSQL. Then the report's hour profile end to end, from a WhatsApp export
of an Indian group.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from qunyun.analytics import report, rollups
from qunyun.analytics.rollups import EFFECTIVE, Rollups, Stored
from qunyun.analytics.scope import day_number, resolve
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importing import run_import
from qunyun.reports.findings import findings
from qunyun.store.ingest import Ingester
from qunyun.store.schema import group_daily, group_hourly, groups, join_daily, member_daily
from tests.conftest import EngineContract

ZONES = (
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Asia/Tehran",
    "America/St_Johns",
    "Asia/Yangon",
    "Pacific/Chatham",
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "UTC",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)
_US = 1_000_000
_HOUR = timedelta(hours=1)
_WALL_EPOCH = datetime(1970, 1, 1)
_FIRST = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp())
_LAST = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())


def _offset(zone: ZoneInfo, second: int) -> timedelta | None:
    return datetime.fromtimestamp(second, zone).utcoffset()


@cache
def transitions(name: str) -> tuple[int, ...]:
    """The POSIX seconds at which ``name``'s offset changes, 1970 to 2037.

    Found day by day (no zone changes twice in a day), then to the second by halving.
    """
    zone = ZoneInfo(name)
    start = int(datetime(1970, 1, 1, tzinfo=UTC).timestamp())
    days = range(start, int(datetime(2038, 1, 1, tzinfo=UTC).timestamp()), 86_400)
    out = []
    for a, b in pairwise(days):
        if _offset(zone, a) != _offset(zone, b):
            lo, hi = a, b  # offset(lo) is the old one, offset(hi) the new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _offset(zone, mid) == _offset(zone, a) else (lo, mid)
            out.append(hi)
    return tuple(out)


def wall(ts: int, name: str) -> datetime:
    """The naive local wall-clock time of UTC micros ``ts``, as Python's datetime says."""
    seconds, micros = divmod(ts, _US)
    local = datetime.fromtimestamp(seconds, ZoneInfo(name))
    return local.replace(tzinfo=None) + timedelta(microseconds=micros)


def expected_hour(ts: int, name: str) -> int:
    return (wall(ts, name) - _WALL_EPOCH) // _HOUR


def expected_day(ts: int, name: str) -> int:
    return day_number(wall(ts, name).date())


@st.composite
def instants(draw: st.DrawFn, name: str) -> int:
    """UTC micros: anywhere in 1900-2100, or within three hours of a transition."""
    near = transitions(name)
    by_a_transition: bool = draw(st.booleans())
    if near and by_a_transition:
        at = draw(st.sampled_from(near)) * _US
        return at + draw(st.integers(-3 * 3600 * _US, 3 * 3600 * _US))
    return draw(st.integers(_FIRST * _US, _LAST * _US))


@st.composite
def zoned_instants(draw: st.DrawFn, min_size: int = 1) -> list[tuple[str, int]]:
    """(zone, instant) pairs over up to four zones, in no particular order; often close
    after the zone's previous instant (events come in runs, which the fold's cache of
    the current span serves, edges and all)."""
    names = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=4, unique=True))
    n = draw(st.integers(min_size, 40))
    out: list[tuple[str, int]] = []
    last: dict[str, int] = {}
    for _ in range(n):
        name = draw(st.sampled_from(names))
        close: bool = draw(st.booleans())
        if close and name in last:
            ts = last[name] + draw(st.integers(-40 * 60 * _US, 40 * 60 * _US))
        else:
            ts = draw(instants(name))
        out.append((name, ts))
        last[name] = ts
    return out


def test_transitions_are_found() -> None:
    """The strategy's transitions are real: Adelaide's at xx:30 UTC, none in Shanghai lately."""
    adelaide = transitions("Australia/Adelaide")
    assert datetime(2024, 4, 6, 16, 30, tzinfo=UTC).timestamp() in adelaide
    assert all(
        t < datetime(1992, 1, 1, tzinfo=UTC).timestamp() for t in transitions("Asia/Shanghai")
    )
    assert transitions("Asia/Kolkata") == ()  # +05:30 all through
    assert len(transitions("Australia/Lord_Howe")) > 60


# --------------------------------------------------------------------------- the fold alone


@settings(max_examples=300, deadline=None)
@given(zoned_instants())
def test_aggregate_buckets_each_event_at_its_own_local_hour(pairs: list[tuple[str, int]]) -> None:
    """Every event's hour and day are those of its own instant, whatever the order;
    each group's earliest UTC hour (where the first-answer update starts) is that of
    its earliest event."""
    gid_of = {name: i for i, name in enumerate(sorted({n for n, _ in pairs}), 1)}
    folder = Rollups()
    for name, gid in gid_of.items():
        folder.clock.set_zone(gid, name)
    batch = [
        Stored(i, "message", ts, gid_of[name], 7, None, EFFECTIVE, False)
        for i, (name, ts) in enumerate(pairs, 1)
    ]
    counts = folder.aggregate(batch)
    hours = Counter((gid_of[n], expected_hour(ts, n)) for n, ts in pairs)
    assert {k: row[2] for k, row in counts.hourly.items()} == hours
    days = Counter((gid_of[n], expected_day(ts, n)) for n, ts in pairs)
    assert {k: row[2] for k, row in counts.days.items()} == days
    assert {k[:2]: row[3] for k, row in counts.daily.items()} == days
    lows = {
        g: min(ts // 3_600_000_000 for n, ts in pairs if gid_of[n] == g) for g in gid_of.values()
    }
    assert counts.lows == lows


def test_repeated_hour_with_a_transition_inside() -> None:
    """Adelaide left DST at 16:30 UTC on 6 April 2024 (03:00 ACDT became 02:00 ACST).

    16:10 UTC is 02:40 ACDT, 16:50 is 02:20 ACST, 17:10 is 02:40 ACST: one local
    hour, 02 on 7 April, reached by instants of two UTC hours on both sides of the
    change. Given latest first, the group's earliest UTC hour is still 16:00.
    """
    zone = ZoneInfo("Australia/Adelaide")
    folder = Rollups()
    folder.clock.set_zone(1, "Australia/Adelaide")
    times = [datetime(2024, 4, 6, 16, m, tzinfo=UTC) for m in (10, 50)]
    times = [datetime(2024, 4, 6, 17, 10, tzinfo=UTC), *reversed(times)]
    assert [t.astimezone(zone).strftime("%d %H:%M %Z") for t in times] == [
        "07 02:40 ACST",
        "07 02:20 ACST",
        "07 02:40 ACDT",
    ]
    ts = [int(t.timestamp()) * _US for t in times]
    got = folder.aggregate(
        [Stored(i, "join", t, 1, 5, 5, ("qr_code", None, None), False) for i, t in enumerate(ts)]
    )
    two = (datetime(2024, 4, 7, 2) - _WALL_EPOCH) // _HOUR
    assert {k: row[6] for k, row in got.hourly.items()} == {(1, two): 3}
    assert got.lows == {1: ts[2] // 3_600_000_000}


# --------------------------------------------------------------------------- on the stores


class _Examples:
    """Unique group names across hypothesis examples sharing one store."""

    n = 0

    @classmethod
    def next(cls) -> int:
        cls.n += 1
        return cls.n


def _events(pairs: list[tuple[str, int]], tag: int) -> dict[str, list[Event]]:
    """Per zone: a message, a bot message, a join or a leave at each instant."""
    out: dict[str, list[Event]] = {}
    bot = IdentityRef("test", "bot", "bot", is_bot=True)
    for i, (name, ts) in enumerate(pairs):
        g = GroupRef("test", f"{tag}:{name}", name)
        who = IdentityRef("test", f"m{i % 3}", f"member {i % 3}")
        when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts)
        kind, actor, target, payload = [
            (Kind.MESSAGE, who, None, {"type": "text", "text": "shall we meet on Sunday"}),
            (Kind.MESSAGE, bot, None, {"type": "text", "text": "reminder: dues"}),
            (Kind.JOIN, who, who, {"method": "invite_link"}),
            (Kind.LEAVE, who, who, {}),
        ][i % 4]
        out.setdefault(name, []).append(
            Event("test", f"{tag}:{i}", kind, when, g, actor, target, payload)
        )
    return out


def per_day(rows: dict[tuple[Any, ...], int]) -> dict[tuple[Any, ...], int]:
    out: Counter[tuple[Any, ...]] = Counter()
    for (name, day, *_), n in rows.items():
        out[(name, day)] += n
    return dict(out)


def _stored(engine: Engine, tag: int) -> dict[str, Any]:
    """The rollups of one example's groups, keyed by zone instead of group id; members'
    days and joins by source summed per day."""
    with engine.connect() as conn:
        zone_of = {
            gid: tz
            for gid, ext, tz in conn.execute(select(groups.c.id, groups.c.external_id, groups.c.tz))
            if ext.startswith(f"{tag}:")
        }

        def rows(table: Any, *cols: Any) -> dict[tuple[Any, ...], int]:
            q = select(table.c.group_id, *cols).where(table.c.group_id.in_(list(zone_of)))
            return {(zone_of[g], *key): n for g, *key, n in conn.execute(q) if n}

        h, d, m, j = group_hourly.c, group_daily.c, member_daily.c, join_daily.c
        return {
            "hourly": rows(group_hourly, h.local_hour, h.messages),
            "hourly_exits": rows(group_hourly, h.local_hour, h.exits),
            "daily": rows(group_daily, d.local_day, d.messages),
            "daily_joins": rows(group_daily, d.local_day, d.joins),
            "member_days": per_day(rows(member_daily, m.local_day, m.identity_id, m.messages)),
            "join_days": per_day(rows(join_daily, j.local_day, j.method, j.source, j.joins)),
        }


def _expected(pairs: list[tuple[str, int]]) -> dict[str, Any]:
    h: Counter[tuple[Any, ...]] = Counter()
    exits: Counter[tuple[Any, ...]] = Counter()
    d: Counter[tuple[Any, ...]] = Counter()
    joins: Counter[tuple[Any, ...]] = Counter()
    people: Counter[tuple[Any, ...]] = Counter()
    for i, (name, ts) in enumerate(pairs):
        hour, day = expected_hour(ts, name), expected_day(ts, name)
        if i % 4 < 2:  # messages (a human's, a bot's)
            h[(name, hour)] += 1
            d[(name, day)] += 1
            if i % 4 == 0:
                people[(name, day)] += 1
        elif i % 4 == 2:
            joins[(name, day)] += 1
        else:
            exits[(name, hour)] += 1
    return {
        "hourly": dict(h),
        "hourly_exits": dict(exits),
        "daily": dict(d),
        "daily_joins": dict(joins),
        "member_days": dict(people),
        "join_days": dict(joins),
    }


class LocalTimeContract(EngineContract):
    @settings(
        max_examples=40,
        deadline=None,
        # one store for all examples (each makes its own groups); the SQLite and the
        # PostgreSQL class run the same body, which depends on nothing else of theirs
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(pairs=zoned_instants(), cut=st.integers(1, 40))
    def test_rollups_are_each_events_local_hour_and_day(
        self, engine: Engine, pairs: list[tuple[str, int]], cut: int
    ) -> None:
        """Folded as imports do (in batches, the earlier events after the later), the
        stored hours and days of every group are its events' own; a rebuild agrees.
        Each example has its own groups, so examples share the store."""
        tag = _Examples.next()
        folder = Rollups()
        for name, evs in _events(pairs, tag).items():
            ing = Ingester(group_tz=name)
            for batch in (evs[cut:], evs[:cut]):
                with engine.begin() as conn:
                    folder.on_written(conn, ing.write(conn, batch))
        got = _stored(engine, tag)
        want = _expected(pairs)
        assert got == want
        rollups.rebuild(engine)
        assert _stored(engine, tag) == want

    def test_indian_whatsapp_group_report_hours_and_days(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        """An Indian WhatsApp export (Android layout, wall-clock times of +05:30): the
        report's heatmap and busiest hour are the file's own hours, days end at local
        midnight. Before, 10:10 IST (04:40 UTC) fell in hour 9 and 00:15 on the 14th
        (18:45 UTC on the 13th) in the 13th."""
        export = tmp_path / "WhatsApp Chat with Pune Runners.txt"
        export.write_text(INDIAN_GROUP, encoding="utf-8")
        run_import(engine, export, fmt="whatsapp", tz="Asia/Kolkata")
        with engine.connect() as conn:
            scope = resolve(conn, None, start="2024-03-13", end="2024-03-14")
            doc = report.build(conn, scope, keywords=False)
        heat = doc["activity"]["heatmap"]
        wednesday, thursday = date(2024, 3, 13).weekday(), date(2024, 3, 14).weekday()
        busy = {(d, h): n for d, row in enumerate(heat) for h, n in enumerate(row) if n}
        assert busy == {
            (wednesday, 9): 1,  # 09:55
            (wednesday, 10): 3,  # 10:10, 10:40, 10:59
            (wednesday, 23): 1,  # 23:50
            (thursday, 0): 1,  # 00:15 the next day
        }
        by_day = {d["date"]: d["messages"] for d in doc["activity"]["by_day"]}
        assert by_day == {"2024-03-13": 5, "2024-03-14": 1}
        assert "Wednesday 10:00 is the busiest hour." in findings(doc, "en")


#: a WhatsApp Android export's lines (dd/mm/yyyy, 24 h, no seconds), days past the
#: 12th so the date order is certain
INDIAN_GROUP = """\
13/03/2024, 08:00 - Messages and calls are end-to-end encrypted. No one outside of this chat, \
not even WhatsApp, can read or listen to them. Tap to learn more.
13/03/2024, 09:55 - Asha Rao: Good morning everyone, what time is the run today?
13/03/2024, 10:10 - Ravi Kumar: Shall we start at eleven near the station
13/03/2024, 10:40 - Asha Rao: Sounds good, see you there
13/03/2024, 10:59 - Meera Iyer: I will bring water for everyone
13/03/2024, 23:50 - Ravi Kumar: Uploading the photos from today tonight
14/03/2024, 00:15 - Asha Rao: Thanks for the photos Ravi, lovely ones
"""


class TestLocalTimeSqlite(LocalTimeContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestLocalTimePostgres(LocalTimeContract):
    engine_name = "postgres"
