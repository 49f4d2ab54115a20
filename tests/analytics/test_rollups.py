"""Rollups: incremental folding equals a rebuild from the log, on every engine,
whatever the order, the batching and the re-imports; and the buckets are local time."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from qunyun.analytics import rollups
from qunyun.analytics.rezone import viewed_in
from qunyun.demo import generate
from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind
from qunyun.store.ingest import Ingester
from qunyun.store.schema import (
    group_daily,
    group_hourly,
    groups,
    join_daily,
    member_daily,
    questions,
)
from tests.conftest import EngineContract


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with engine.connect() as conn:
        for t in (group_hourly, group_daily, member_daily, join_daily, questions):
            out[t.name] = sorted(tuple(r) for r in conn.execute(select(t)))
    return out


def load(engine: Engine, batches: list[list[Event]], *, packed_info: bool = False) -> None:
    """Ingest and fold; ``packed_info``: messages classified when packed, as imports do."""
    info = rollups.message_info if packed_info else None
    ing, fold = Ingester(group_tz="Asia/Shanghai", message_info=info), rollups.Rollups()
    for b in batches:
        with engine.begin() as conn:
            fold.on_written(conn, ing.write(conn, b))


G = GroupRef("wechat", "r1@chatroom", "读书会")
A = IdentityRef("wechat", "wxid_a", "阿甲")
B = IdentityRef("wechat", "wxid_b", "小乙")
BOT = IdentityRef("wechat", "wxid_bot", "打卡小助手", is_bot=True)


def ev(
    n: int,
    kind: Kind,
    when: datetime,
    actor: IdentityRef,
    target: IdentityRef | None = None,
    **payload: object,
) -> Event:
    return Event("test", str(n), kind, when, G, actor, target, dict(payload))


# 2024-03-03 is a Sunday; 16:30 UTC is 00:30 on Monday 4 March in Shanghai.
HAND = [
    ev(1, Kind.JOIN, datetime(2024, 3, 3, 15, 0, tzinfo=UTC), A, A, method="qr_code"),
    ev(
        2,
        Kind.JOIN,
        datetime(2024, 3, 3, 15, 5, tzinfo=UTC),
        A,
        B,
        method=JoinMethod.INVITED_BY.value,
    ),
    ev(
        3,
        Kind.MESSAGE,
        datetime(2024, 3, 3, 15, 59, tzinfo=UTC),
        A,
        text="请问周末活动几点？",
        type="text",
    ),
    ev(4, Kind.MESSAGE, datetime(2024, 3, 3, 16, 30, tzinfo=UTC), B, text="打卡", type="text"),
    ev(5, Kind.MESSAGE, datetime(2024, 3, 3, 16, 31, tzinfo=UTC), B, text="[捂脸]", type="text"),
    ev(6, Kind.MESSAGE, datetime(2024, 3, 3, 16, 32, tzinfo=UTC), B, text="", type="sticker"),
    ev(7, Kind.MESSAGE, datetime(2024, 3, 3, 16, 33, tzinfo=UTC), B, text="下午三点", type="text"),
    ev(8, Kind.MESSAGE, datetime(2024, 3, 3, 16, 34, tzinfo=UTC), BOT, text="今日打卡 3 人"),
    ev(9, Kind.LEAVE, datetime(2024, 3, 3, 17, 0, tzinfo=UTC), B, B),
]


def local_hour(y: int, mo: int, d: int, h: int) -> int:
    return int((datetime(y, mo, d, h) - datetime(1970, 1, 1)).total_seconds()) // 3600


class RollupContract(EngineContract):
    def test_hand_computed_buckets(self, engine: Engine) -> None:
        load(engine, [HAND])
        snap = snapshot(engine)
        sun23, mon00, mon01 = (
            local_hour(2024, 3, 3, 23),
            local_hour(2024, 3, 4, 0),
            local_hour(2024, 3, 4, 1),
        )
        # (group, local_hour, messages, effective, questions, bot_messages, joins, exits)
        assert [r[1:] for r in snap["group_hourly"]] == [
            (sun23, 1, 1, 1, 0, 2, 0),
            (mon00, 5, 1, 0, 1, 0, 0),
            (mon01, 0, 0, 0, 0, 0, 1),
        ]
        sunday, monday = sun23 // 24, mon00 // 24
        assert [r[1:] for r in snap["member_daily"]] == [
            (sunday, 1, 1, 1),  # A: the question
            (monday, 2, 4, 1),  # B: check-in, emoticon, sticker, answer → 1 effective
        ]
        assert [(r[1], r[3]) for r in snap["questions"]] == [(1, 1)]  # A's question, group 1
        assert [r[1:] for r in snap["join_daily"]] == [
            (sunday, "invited_by", "identity:1", 1),
            (sunday, "qr_code", "", 1),
        ]

    def test_incremental_equals_rebuild(self, engine: Engine) -> None:
        plan = generate(groups=3, members=150, days=40, seed=3)
        evs = list(plan.events()) + HAND
        random.Random(5).shuffle(evs)
        rng = random.Random(6)
        batches, i = [], 0
        while i < len(evs):
            n = rng.randint(1, 400)
            batches.append(evs[i : i + n])
            i += n
        batches += [evs[: len(evs) // 3]]  # a re-import of a third of it
        load(engine, batches)
        incremental = snapshot(engine)
        assert sum(r[2] for r in incremental["group_hourly"]) > 300
        by_day: dict[tuple[Any, Any], list[Any]] = {}
        for gid, hour, *counts in incremental["group_hourly"]:
            acc = by_day.setdefault((gid, hour // 24), [0] * len(counts))
            by_day[(gid, hour // 24)] = [a + n for a, n in zip(acc, counts, strict=True)]
        assert [(g, d, *v) for (g, d), v in sorted(by_day.items())] == incremental["group_daily"]
        with engine.connect() as conn:
            assert rollups.lag(conn) == 0
        rollups.rebuild(engine)
        assert snapshot(engine) == incremental

    def test_classified_when_packed_equals_rebuild(self, engine: Engine) -> None:
        plan = generate(groups=2, members=100, days=30, seed=4)
        evs = [*plan.events(), *HAND]
        load(engine, [evs[i : i + 700] for i in range(0, len(evs), 700)], packed_info=True)
        packed = snapshot(engine)
        assert sum(r[3] for r in packed["group_hourly"]) > 100  # effective messages
        assert packed["questions"]
        rollups.rebuild(engine)  # classifies from the stored payloads
        assert snapshot(engine) == packed

    def test_catch_up_from_position(self, engine: Engine) -> None:
        ing = Ingester(group_tz="Asia/Shanghai")
        with engine.begin() as conn:
            ing.write(conn, HAND)  # written without folding, like an older qunyun
        with engine.connect() as conn:
            assert rollups.lag(conn) == len(HAND)
        assert rollups.catch_up(engine) == len(HAND)
        assert rollups.catch_up(engine) == 0
        folded = snapshot(engine)
        rollups.rebuild(engine)
        assert snapshot(engine) == folded

    def test_refold_leaves_events_past_the_position_to_catch_up(self, engine: Engine) -> None:
        load(engine, [HAND[:5]])
        with engine.begin() as conn:
            Ingester(group_tz="Asia/Shanghai").write(conn, HAND[5:])  # not folded yet
        with engine.begin() as conn:
            rollups.refold(conn, [1])
            assert rollups.lag(conn) == len(HAND) - 5
        rollups.catch_up(engine)  # folds the rest exactly once
        folded = snapshot(engine)
        rollups.rebuild(engine)
        assert snapshot(engine) == folded

    def test_viewed_in_another_zone_then_nothing_changed(self, engine: Engine) -> None:
        plan = generate(groups=2, members=60, days=20, seed=8)
        load(engine, [[*plan.events(), *HAND]])
        stored = snapshot(engine)
        with engine.connect() as conn:
            with viewed_in(conn, [1, 2, 3], "UTC") as changed:
                assert sorted(changed) == [1, 2, 3]
                in_utc = {
                    t.name: sorted(tuple(r) for r in conn.execute(select(t)))
                    for t in (group_hourly, group_daily, member_daily, join_daily, questions)
                }
                # HAND's Sunday 23:00/Monday 00:xx Shanghai hours are 15:00/16:00 UTC
                # on Sunday: the UTC buckets are the events' own UTC hours.
                hand_gid = conn.execute(
                    select(groups.c.id).where(groups.c.external_id == G.external_id)
                ).scalar_one()
                hours = [r[1] for r in in_utc["group_hourly"] if r[0] == hand_gid]
                assert hours == [
                    local_hour(2024, 3, 3, 15),
                    local_hour(2024, 3, 3, 16),
                    local_hour(2024, 3, 3, 17),
                ]
            tzs = {r.tz for r in conn.execute(select(groups.c.tz))}
        assert tzs == {"Asia/Shanghai"}
        assert snapshot(engine) == stored
        # the view equals the rollups of the same events stored in UTC for good
        with engine.begin() as conn:
            conn.execute(groups.update().values(tz="UTC"))
        rollups.rebuild(engine)
        assert snapshot(engine) == in_utc


class TestRollupsSqlite(RollupContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestRollupsPostgres(RollupContract):
    engine_name = "postgres"
