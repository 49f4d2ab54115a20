"""The metric cache: exact while data is still, a bounded lag behind a live stream,
never behind a finished import."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from qunyun.analytics import rollups
from qunyun.store.schema import imports
from qunyun.web.cache import GRACE, MetricCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def advance_to(engine: Engine, position: int) -> None:
    with engine.begin() as conn:
        rollups._advance(conn, position)


def record_import(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                imports.insert()
                .values(
                    path="x.json",
                    format="telegram",
                    status="running",
                    started_at=datetime.now(UTC),
                )
                .returning(imports.c.id)
            ).scalar_one()
        )


def finish_import(engine: Engine, import_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            imports.update()
            .where(imports.c.id == import_id)
            .values(status="done", finished_at=datetime.now(UTC))
        )


def make(_engine: Engine) -> tuple[MetricCache, Clock, list[int]]:
    clock, calls = Clock(), []
    return MetricCache(clock=clock), clock, calls


def ask(cache: MetricCache, engine: Engine, calls: list[int], **kw: float) -> int:
    def compute() -> int:
        calls.append(1)
        return len(calls)

    with engine.connect() as conn:
        return cache.get(conn, "k", compute, **kw)


def test_same_data_is_served(sqlite_engine: Engine) -> None:
    cache, clock, calls = make(sqlite_engine)
    advance_to(sqlite_engine, 10)
    assert ask(cache, sqlite_engine, calls) == 1
    clock.now += 10 * GRACE
    assert ask(cache, sqlite_engine, calls) == 1  # nothing new: good forever


def test_live_stream_lags_by_at_most_the_grace(sqlite_engine: Engine) -> None:
    cache, clock, calls = make(sqlite_engine)
    advance_to(sqlite_engine, 1_000_000)
    assert ask(cache, sqlite_engine, calls) == 1
    advance_to(sqlite_engine, 1_000_500)  # 500 new events: 0.05 % of the store
    clock.now += GRACE / 2
    assert ask(cache, sqlite_engine, calls) == 1
    assert ask(cache, sqlite_engine, calls, refresh_after=GRACE / 2) == 2  # the warm-up
    clock.now += GRACE / 2
    advance_to(sqlite_engine, 1_000_600)
    assert ask(cache, sqlite_engine, calls) == 2
    clock.now += GRACE
    assert ask(cache, sqlite_engine, calls) == 3  # too old


def test_many_new_events_are_seen_at_once(sqlite_engine: Engine) -> None:
    cache, _, calls = make(sqlite_engine)
    advance_to(sqlite_engine, 1_000_000)
    assert ask(cache, sqlite_engine, calls) == 1
    advance_to(sqlite_engine, 1_002_000)  # 0.2 %
    assert ask(cache, sqlite_engine, calls) == 2


def test_a_small_store_is_always_current(sqlite_engine: Engine) -> None:
    cache, _, calls = make(sqlite_engine)
    advance_to(sqlite_engine, 50)
    assert ask(cache, sqlite_engine, calls) == 1
    advance_to(sqlite_engine, 51)
    assert ask(cache, sqlite_engine, calls) == 2


def test_an_import_is_seen_when_it_starts_and_when_it_ends(sqlite_engine: Engine) -> None:
    cache, _, calls = make(sqlite_engine)
    advance_to(sqlite_engine, 1_000_000)
    assert ask(cache, sqlite_engine, calls) == 1
    started = record_import(sqlite_engine)
    advance_to(sqlite_engine, 1_000_010)  # its first ten events
    assert ask(cache, sqlite_engine, calls) == 2
    advance_to(sqlite_engine, 1_000_020)  # ten more while it runs: may lag
    assert ask(cache, sqlite_engine, calls) == 2
    finish_import(sqlite_engine, started)
    assert ask(cache, sqlite_engine, calls) == 3
    assert ask(cache, sqlite_engine, calls) == 3
