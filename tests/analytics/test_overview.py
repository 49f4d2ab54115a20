"""The all-groups overview: hand-computed numbers, and agreement with the full report.

Two groups in different zones so that day boundaries are local: 读书会 in Shanghai
(the history of test_metrics) and a club in New York, whose March 2024 starts in EST
and ends in EDT (DST began on 10 March).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from qunyun.analytics import overview, rollups
from qunyun.analytics.scope import resolve
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.store.ingest import Ingester
from tests.analytics.test_metrics import HISTORY
from tests.conftest import EngineContract

NY = ZoneInfo("America/New_York")
G2 = GroupRef("telegram", "-1009", "NYC club")
E, F, H, J = (IdentityRef("telegram", x, x.upper()) for x in ("e", "f", "h", "j"))
BOT2 = IdentityRef("telegram", "bot2", "helper", is_bot=True)


def ny(m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2024, m, d, h, mi, tzinfo=NY)


def say(n: int, when: datetime, who: IdentityRef, text: str) -> Event:
    return Event("t2", f"n{n}", Kind.MESSAGE, when, G2, who, None, {"text": text, "type": "text"})


def join(n: int, when: datetime, who: IdentityRef) -> Event:
    return Event("t2", f"j{n}", Kind.JOIN, when, G2, who, who, {"method": "qr_code"})


NYC = [
    say(1, ny(2, 20, 20), E, "hello again"),  # no join: E is first seen here (prior weeks)
    join(1, ny(2, 29, 23, 30), E),  # 1 March 04:30 UTC, but 29 February in New York
    say(2, ny(2, 29, 21), E, "hello"),  # 1 March 02:00 UTC: February locally, not counted
    join(2, ny(3, 1, 0, 10), F),  # 1 March locally (and in UTC)
    say(3, ny(3, 10, 10), E, "what time is the meetup?"),  # a question (EDT from today)
    say(4, ny(3, 10, 10, 5), F, "7pm at the cafe"),  # answered after 5 minutes
    say(5, ny(3, 10, 12), BOT2, "reminder: meetup at 7pm"),  # bots count only as messages
    say(6, ny(3, 15, 9), E, "+1"),  # not effective
    join(3, ny(3, 20, 8), J),
    Event("t2", "l1", Kind.LEAVE, ny(3, 31, 23, 50), G2, F, F, {}),  # 1 April in UTC
    say(7, ny(3, 31, 22), H, "see you all"),  # H: first seen on the last day, a member
]


def load(engine: Engine) -> None:
    fold = rollups.Rollups()
    with engine.begin() as conn:
        fold.on_written(conn, Ingester(group_tz="Asia/Shanghai").write(conn, HISTORY))
        fold.on_written(conn, Ingester(group_tz="America/New_York").write(conn, NYC))


def build(engine: Engine) -> dict[str, Any]:
    load(engine)
    with engine.connect() as conn:
        return overview.build(conn, resolve(conn, None, month="2024-03"))


class OverviewContract(EngineContract):
    def test_groups_by_hand(self, engine: Engine) -> None:
        doc = build(engine)
        assert doc["schema"] == 1 and doc["scope"]["from"] == "2024-03-01"
        g1, g2 = doc["groups"]
        assert (g1["title"], g1["platform"], g1["external_id"]) == (
            "读书会",
            "wechat",
            "room@chatroom",
        )
        # test_metrics: members A, B, D at the end (C left); 2 → 3; mau A, B; health 50;
        # effective per week: recent 3/4, prior 1/8 (D's "hi" in January)
        assert {k: v for k, v in g1.items() if k not in ("id", "title", "platform")} == {
            "external_id": "room@chatroom",
            "members": 3,
            "joins": 2,
            "leaves": 1,
            "net": 1,
            "messages": 6,
            "effective": 3,
            "active_members": 2,
            "active_share": round(2 / 3, 4),
            "health_score": 50,
            "dying": False,
            "change": 5.0,
        }
        # New York: members on 29 Feb: E; on 31 Mar: E, H, J (F left that evening);
        # on 3 Mar (health window start): E, F, of whom E stays → growth 1, activity 1
        # (E, F, H active / 3), retention 0, response 1 (5 min) → 75. Effective per week:
        # recent 3/4 (question, answer, H), prior 2/8 (E's two hellos) → change 2.0.
        # active_share is MAU over members at the end, and F, who left, was active.
        assert {k: v for k, v in g2.items() if k not in ("id", "title", "platform")} == {
            "external_id": "-1009",
            "members": 3,
            "joins": 2,
            "leaves": 1,
            "net": 2,
            "messages": 5,
            "effective": 3,
            "active_members": 3,
            "active_share": 1.0,
            "health_score": 75,
            "dying": False,
            "change": 2.0,
        }
        assert g1["id"] < g2["id"]
        assert doc["totals"] == {
            "groups": 2,
            "members": 6,
            "joins": 4,
            "leaves": 2,
            "net": 3,
            "messages": 11,
            "effective": 6,
            "active_members": 5,
            "dying": 0,
        }

    def test_daily_is_every_local_day(self, engine: Engine) -> None:
        daily = build(engine)["daily"]
        assert [d["date"] for d in daily][:2] == ["2024-03-01", "2024-03-02"]
        assert len(daily) == 31
        busy = {
            d["date"]: (d["joins"], d["leaves"], d["messages"], d["effective"])
            for d in daily
            if any(d[k] for k in ("joins", "leaves", "messages", "effective"))
        }
        assert busy == {
            "2024-03-01": (1, 0, 0, 0),  # F joins at 00:10 New York time
            "2024-03-02": (1, 0, 0, 0),
            "2024-03-03": (1, 0, 0, 0),
            "2024-03-04": (0, 0, 1, 1),
            "2024-03-05": (0, 0, 2, 2),
            "2024-03-06": (0, 0, 1, 0),  # the Shanghai bot
            "2024-03-10": (0, 0, 3, 2),
            "2024-03-12": (0, 0, 1, 0),
            "2024-03-15": (0, 0, 1, 0),
            "2024-03-19": (0, 0, 1, 0),
            "2024-03-20": (1, 1, 0, 0),
            "2024-03-31": (0, 1, 1, 1),  # F's leave and H's message, 1 April in UTC
        }

    def test_one_group_scope(self, engine: Engine) -> None:
        load(engine)
        with engine.connect() as conn:
            doc = overview.build(conn, resolve(conn, "NYC", month="2024-02"))
        (g,) = doc["groups"]
        # February in New York: E's two hellos, E's join on the 29th (late evening)
        assert (g["members"], g["joins"], g["net"], g["messages"], g["effective"]) == (
            1,
            1,
            1,
            2,
            2,
        )
        assert doc["totals"]["active_members"] == 1

    def test_local_midnight_is_the_boundary(self, engine: Engine) -> None:
        edge = GroupRef("telegram", "-1010", "edge club")
        k, l_, m = (IdentityRef("telegram", x, x) for x in ("k", "l", "m"))

        def ev(n: str, kind: Kind, when: datetime, who: IdentityRef) -> Event:
            return Event("t3", n, kind, when, edge, who, who, {})

        evs = [
            ev("k1", Kind.JOIN, ny(3, 1, 0), k),  # the first instant of March: in March
            ev("l1", Kind.JOIN, ny(2, 10, 9), l_),
            ev("l2", Kind.LEAVE, ny(4, 1, 0), l_),  # the first instant of April
            ev("m1", Kind.JOIN, ny(2, 10, 9), m),
            ev("m2", Kind.LEAVE, datetime(2024, 3, 31, 23, 59, 59, tzinfo=NY), m),
        ]
        with engine.begin() as conn:
            fold = rollups.Rollups()
            fold.on_written(conn, Ingester(group_tz="America/New_York").write(conn, evs))
        with engine.connect() as conn:
            (g,) = overview.build(conn, resolve(conn, "edge", month="2024-03"))["groups"]
        # 29 Feb ends with L and M; 31 March ends with K and L (M left a second before)
        assert (g["members"], g["net"], g["joins"], g["leaves"]) == (2, 0, 1, 1)


class TestOverviewSqlite(OverviewContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestOverviewPostgres(OverviewContract):
    engine_name = "postgres"
