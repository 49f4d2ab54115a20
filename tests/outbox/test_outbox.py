"""The outbox on every engine: once per key, within limits, retried, dead-lettered, recovered."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from sqlalchemy import Engine, select, update

from qunyun.connectors.base import Action, ActionKind, Refused, RetryLater, Unreachable
from qunyun.outbox import deliver
from qunyun.outbox.deliver import Deliverer, recover
from qunyun.outbox.rows import Priority, enqueue, retry
from qunyun.store.schema import events, outbox
from qunyun.testing.fake_connector import FakeConnector
from tests.conftest import EngineContract


def send(chat: str, key: str, text: str = "hi") -> Action:
    return Action(ActionKind.SEND, chat, key=key, text=text)


def add(
    engine: Engine, c: FakeConnector, actions: list[Action], prio: Priority = Priority.REPLY
) -> None:
    with engine.begin() as conn:
        for a in actions:
            enqueue(conn, c.name, a, priority=prio, cause="test")


def statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(conn.execute(select(outbox.c.status)).scalars())


class OutboxContract(EngineContract):
    def test_one_row_per_key_and_each_delivered_once(self, engine: Engine) -> None:
        c = FakeConnector()
        add(engine, c, [send(f"g{i % 10}", f"k{i}") for i in range(40)])
        add(engine, c, [send("g0", "k0", "again")])  # the same decision, retried
        asyncio.run(Deliverer(engine, c).run_until_idle())
        assert statuses(engine) == {"sent": 40}
        assert sorted(a.key for _, a in c.performed) == sorted(f"k{i}" for i in range(40))
        with engine.connect() as conn:
            rows = conn.execute(select(events.c.payload).where(events.c.kind == "service")).all()
        assert len(rows) == 40, "every action taken is recorded as an event"

    def test_per_chat_limit_holds_and_other_chats_go_on(self, engine: Engine) -> None:
        c = FakeConnector()  # 5 per second per chat
        add(engine, c, [send("busy", f"b{i}") for i in range(12)])
        add(engine, c, [send(f"q{i}", f"q{i}") for i in range(5)])
        t0 = time.time()
        asyncio.run(Deliverer(engine, c).run_until_idle())
        times = [t for t, a in c.performed if a.chat == "busy"]
        for i in range(len(times) - 5):
            assert times[i + 5] - times[i] >= 1.0, "no 6 sends to one chat within a second"
        quiet = [t for t, a in c.performed if a.chat.startswith("q")]
        assert max(quiet) - t0 < 1.0, "the busy chat's wait held up no other chat"

    def test_moderation_goes_before_broadcasts(self, engine: Engine) -> None:
        c = FakeConnector()
        add(engine, c, [send(f"g{i}", f"bc{i}") for i in range(30)], Priority.BROADCAST)
        add(
            engine, c, [Action(ActionKind.KICK, "g9", key="kick", target="u1")], Priority.MODERATION
        )
        asyncio.run(Deliverer(engine, c, parallel=1).run_until_idle())
        assert c.performed[0][1].key == "kick"

    def test_retry_after_pauses_only_that_chat_and_is_honoured(self, engine: Engine) -> None:
        c = FakeConnector()
        c.fail_chats["slow"] = __import__("collections").deque([RetryLater("429", 0.6)])
        add(engine, c, [send("slow", "s1"), send("fast", "f1")])
        t0 = time.time()
        asyncio.run(Deliverer(engine, c).run_until_idle())
        when = {a.key: t - t0 for t, a in c.performed}
        assert when["f1"] < 0.5
        assert when["s1"] >= 0.6
        assert statuses(engine) == {"sent": 2}

    def test_refused_is_a_dead_letter_with_reason_and_can_be_retried(self, engine: Engine) -> None:
        c = FakeConnector()
        c.failures.append(Refused("not enough rights to kick", code="missing_right"))
        add(engine, c, [Action(ActionKind.KICK, "g", key="k1", target="u")], Priority.MODERATION)
        asyncio.run(Deliverer(engine, c).run_until_idle())
        with engine.connect() as conn:
            row = conn.execute(select(outbox)).one()
        assert (row.status, row.error_code) == ("dead", "missing_right")
        assert "rights" in row.error
        with engine.begin() as conn:
            assert retry(conn, [row.id]) == 1
        asyncio.run(Deliverer(engine, c).run_until_idle())
        assert statuses(engine) == {"sent": 1}

    def test_transient_failures_back_off_then_dead_letter(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(deliver, "MAX_BACKOFF", 0.05)
        c = FakeConnector()
        c.failures.extend([Unreachable("HTTP 502"), Unreachable("timeout")])
        add(engine, c, [send("g", "ok")])
        asyncio.run(Deliverer(engine, c).run_until_idle())
        assert statuses(engine) == {"sent": 1}
        assert len(c.performed) == 1
        c.failures.extend(Unreachable("HTTP 503") for _ in range(deliver.MAX_ATTEMPTS))
        add(engine, c, [send("g", "never")])
        asyncio.run(Deliverer(engine, c).run_until_idle())
        with engine.connect() as conn:
            dead = conn.execute(select(outbox).where(outbox.c.key == "never")).one()
        assert dead.status == "dead" and "gave up after" in dead.error

    def test_recover_after_a_crash(self, engine: Engine) -> None:
        plain, idem = FakeConnector("plain"), FakeConnector("idem", idempotent=True)
        add(engine, plain, [send("g", "p-claimed"), send("g", "p-sending")])
        add(engine, idem, [send("g", "i-sending")])
        with engine.begin() as conn:
            conn.execute(update(outbox).values(status="sending", claimed_by="nohost:1:x"))
            conn.execute(update(outbox).where(outbox.c.key == "p-claimed").values(status="claimed"))
            conn.execute(
                update(outbox).values(
                    claimed_at=__import__("datetime").datetime(
                        2020, 1, 1, tzinfo=__import__("datetime").UTC
                    )
                )
            )
        assert recover(engine, {"plain": plain, "idem": idem}) == {"requeued": 2, "unknown": 1}
        with engine.connect() as conn:
            got = dict(conn.execute(select(outbox.c.key, outbox.c.status)).all())
        assert got == {"p-claimed": "queued", "p-sending": "unknown", "i-sending": "queued"}


class TestOutboxSQLite(OutboxContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestOutboxPostgres(OutboxContract):
    engine_name = "postgres"

    def test_workers_share_rows_and_limits(self, engine: Engine) -> None:
        """Two workers on one PostgreSQL: each row once, SKIP LOCKED, limits kept together."""
        c1, c2 = FakeConnector("shared"), FakeConnector("shared")
        c1.delay = c2.delay = 0.002
        add(engine, c1, [send(f"g{i % 50}", f"w{i}") for i in range(300)])

        async def both() -> None:
            d1, d2 = Deliverer(engine, c1), Deliverer(engine, c2)
            d2.worker += ":second"
            await asyncio.gather(d1.run_until_idle(), d2.run_until_idle())

        asyncio.run(both())
        keys = [a.key for _, a in c1.performed + c2.performed]
        assert len(keys) == 300 and len(set(keys)) == 300
        assert c1.performed and c2.performed, "both workers took part"
