"""The live writer on every engine: committed means stored, once, with rollups and positions."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from qunyun.events import Event, Kind
from qunyun.store.live import LiveWriteError, LiveWriter, load_state
from qunyun.store.schema import events, group_hourly, memberships
from qunyun.testing.factories import join, message, person
from tests.conftest import EngineContract

alice, bob = person("1", name="Alice"), person("2", name="Bob")


def count(engine: Engine, table: object = events) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


class LiveContract(EngineContract):
    def test_sink_returns_once_committed_with_state(self, engine: Engine) -> None:
        with LiveWriter(engine) as writer:
            sink = writer.sink("tg")

            async def go() -> None:
                await sink([join("j1", alice, minutes=0)], {"offset": "7"})
                assert count(engine) == 1  # visible to another connection at once
                await sink([message("m1", alice, minutes=1)], {"offset": "8"})

            asyncio.run(go())
            with engine.connect() as conn:
                assert load_state(conn, "tg") == {"offset": "8"}
        assert count(engine) == 2
        assert count(engine, memberships) == 1
        with engine.connect() as conn:
            msgs = conn.execute(select(func.sum(group_hourly.c.messages))).scalar_one()
        assert msgs == 1, "rollups are kept current as events arrive"

    def test_many_callers_group_commit_and_no_duplicates(self, engine: Engine) -> None:
        with LiveWriter(engine, window=0.01) as writer:
            futures = []
            for i in range(300):
                ev = message(f"m{i % 200}", bob if i % 2 else alice, minutes=i)
                futures.append(writer.submit("x", [ev]))
            results = [f.result(timeout=30) for f in futures]
            assert writer.stats.commits < 300, "callers share commits"
        assert count(engine) == 200  # the 100 repeats were recognised by their keys
        assert all(r.new + r.duplicate >= 1 for r in results)

    def test_a_bad_event_fails_only_its_caller(self, engine: Engine) -> None:
        good = message("ok", alice)
        bad = Event("test", "bad", Kind.MESSAGE, datetime(2024, 1, 1, tzinfo=UTC), good.group,
                    alice, payload={"text": object()})  # not JSON-serialisable
        with LiveWriter(engine, window=0.05) as writer:
            f_bad = writer.submit("x", [bad])
            f_good = writer.submit("x", [good], {"k": "v"})
            with pytest.raises(LiveWriteError):
                f_bad.result(timeout=30)
            assert f_good.result(timeout=30).new == 1
            with engine.connect() as conn:
                assert load_state(conn, "x") == {"k": "v"}
        assert count(engine) == 1

    def test_stop_commits_what_is_queued(self, engine: Engine) -> None:
        writer = LiveWriter(engine, window=0.2).start()
        fs = [writer.submit("x", [message(f"q{i}", alice, minutes=i)]) for i in range(50)]
        threading.Thread(target=writer.stop).start()
        for f in fs:
            f.result(timeout=30)
        assert count(engine) == 50


class TestLiveSQLite(LiveContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestLivePostgres(LiveContract):
    engine_name = "postgres"
