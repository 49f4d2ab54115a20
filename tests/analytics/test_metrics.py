"""Every metric against numbers worked out by hand on a tiny community (see comments)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from qunyun.analytics import report, rollups
from qunyun.analytics.scope import resolve
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.store.ingest import Ingester
from qunyun.store.schema import identities
from tests.conftest import EngineContract

SH = ZoneInfo("Asia/Shanghai")
G = GroupRef("wechat", "room@chatroom", "读书会")
A, B, C, D = (IdentityRef("wechat", f"wxid_{x}", x.upper()) for x in "abcd")
BOT = IdentityRef("wechat", "wxid_bot", "小助手", is_bot=True)


def at(m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2024, m, d, h, mi, tzinfo=SH)


def msg(n: int, when: datetime, who: IdentityRef, text: str, kind: str = "text") -> Event:
    return Event("t", f"m{n}", Kind.MESSAGE, when, G, who, None, {"text": text, "type": kind})


HISTORY = [
    Event(
        "t", "j1", Kind.JOIN, at(2, 10, 10), G, A, A, {"method": "invite_link", "invite_link": "L1"}
    ),
    msg(1, at(1, 15, 9), D, "hi"),  # D: no join in the history, first seen in January
    Event("t", "j2", Kind.JOIN, at(3, 2, 9), G, A, B, {"method": "invited_by"}),
    Event("t", "j3", Kind.JOIN, at(3, 3, 11), G, C, C, {"method": "qr_code"}),
    msg(2, at(3, 4, 21), A, "大家好"),  # Monday 21h
    msg(3, at(3, 5, 21, 10), A, "请问周末活动几点？"),  # Tuesday 21h, a question
    msg(4, at(3, 5, 21, 20), B, "下午三点"),  # the answer, 10 minutes later
    msg(5, at(3, 12, 8), B, "打卡"),  # a check-in: not effective
    msg(6, at(3, 19, 12), B, "", "sticker"),  # not effective
    msg(7, at(3, 6, 8), BOT, "今日打卡 0 人"),  # bots never count
    Event("t", "l1", Kind.LEAVE, at(3, 20, 18), G, C, C, {}),
]


def build(engine: Engine) -> dict[str, Any]:
    ing, fold = Ingester(group_tz="Asia/Shanghai"), rollups.Rollups()
    with engine.begin() as conn:
        fold.on_written(conn, ing.write(conn, HISTORY))
    with engine.connect() as conn:
        return report.build(conn, resolve(conn, None, month="2024-03"))


class MetricsContract(EngineContract):
    def test_growth(self, engine: Engine) -> None:
        g = build(engine)["growth"]
        assert (g["members_start"], g["members_end"], g["net_growth"]) == (2, 3, 1)
        assert (g["joins"], g["leaves"]) == (2, 1)
        by_day = {p["date"]: p for p in g["by_day"]}
        assert by_day["2024-03-01"]["members"] == 2
        assert by_day["2024-03-02"]["members"] == 3 and by_day["2024-03-03"]["members"] == 4
        assert by_day["2024-03-20"]["members"] == 3 and by_day["2024-03-20"]["leaves"] == 1
        with engine.connect() as conn:
            a_id = conn.execute(
                select(identities.c.id).where(identities.c.external_id == "wxid_a")
            ).scalar()
        sources = {(s["method"], s["source"]): s["joins"] for s in g["by_source"]}
        assert sources == {("invited_by", f"identity:{a_id}"): 1, ("qr_code", ""): 1}

    def test_activity(self, engine: Engine) -> None:
        a = build(engine)["activity"]
        assert (a["messages"], a["effective_messages"], a["questions"]) == (6, 3, 1)
        assert (a["active_members"], a["mau"], a["wau"]) == (2, 2, 0)
        assert a["active_share"] == round(2 / 3, 4)
        assert a["lurker_share"] == 0.0  # A, B and D have all spoken at some time
        heat = a["heatmap"]
        assert len(heat) == 7 and all(len(r) == 24 for r in heat)
        assert heat[0][21] == 1 and heat[1][21] == 2 and sum(map(sum, heat)) == 3
        assert a["dau"] == round(3 / 31, 2)  # A on the 4th, A and B on the 5th

    def test_contributors_newcomers_response(self, engine: Engine) -> None:
        doc = build(engine)
        top = [(t["name"], t["effective"], t["messages"]) for t in doc["top_contributors"]]
        assert top == [("A", 2, 2), ("B", 1, 3)]
        n = doc["newcomers"]
        assert (n["joined"], n["spoke_within_7d"]) == (2, 1)
        assert n["median_hours_to_first_message"] == round((3 * 24 + 12 + 20 / 60), 2)
        r = doc["response"]
        assert (r["questions"], r["answered"], r["median_minutes"]) == (1, 1, 10.0)
        k = doc["keywords"]
        # effective human messages of March: 大家好 / 请问周末活动几点？ / 下午三点
        assert (k["messages_analysed"], k["previous_messages_analysed"]) == (3, 0)
        assert {"周末", "活动"} <= {t["term"] for t in k["top"]}
        assert k["wordcloud_svg"].startswith("<svg")

    def test_funnel_retention_lifecycle(self, engine: Engine) -> None:
        doc = build(engine)
        f = doc["funnel"]
        assert (f["joined"], f["spoke"], f["spoke_again_later_week"], f["regular"]) == (2, 1, 1, 0)
        (cohort,) = doc["retention"]
        assert (cohort["week"], cohort["joined"]) == ("2024-02-26", 2)
        assert cohort["weeks"]["1"] == {"member": 1.0, "active": 0.5}
        assert cohort["weeks"]["2"] == {"member": 1.0, "active": 0.0}
        assert cohort["weeks"]["4"] is None  # the history ends on 20 March
        assert doc["lifecycle"] == {"new": 0, "active": 2, "silent": 1, "churned": 1}

    def test_health_and_dying(self, engine: Engine) -> None:
        h = build(engine)["health"]
        (g,) = h["groups"]
        # window = the 28 days to 31 March: members on 3 March A, B, C, D; on 31 March A, B, D
        assert g["members"] == 3 and g["median_response_minutes"] == 10.0
        assert g["components"] == {
            "growth": 0.0,
            "activity": 1.0,
            "retention": 0.0,
            "response": 1.0,
        }
        assert g["score"] == 50 and h["score"] == 50
        assert not g["dying"]  # 1 effective message in the 8 weeks before: too few to judge

    def test_dying_group_is_flagged(self, engine: Engine) -> None:
        from datetime import timedelta

        g2 = GroupRef("wechat", "dying@chatroom", "快散了的群")
        end = at(3, 31, 12)
        evs = []
        for week in range(12):  # 8 busy weeks (10 a week), then 4 quiet ones (1 a week)
            per_week = 10 if week < 8 else 1
            for i in range(per_week):
                when = end - timedelta(weeks=11 - week, hours=i)
                evs.append(
                    Event(
                        "t",
                        f"d{week}-{i}",
                        Kind.MESSAGE,
                        when,
                        g2,
                        A,
                        None,
                        {"text": f"讨论第{week}周的书", "type": "text"},
                    )
                )
        ing, fold = Ingester(group_tz="Asia/Shanghai"), rollups.Rollups()
        with engine.begin() as conn:
            fold.on_written(conn, ing.write(conn, evs))
        with engine.connect() as conn:
            doc = report.build(conn, resolve(conn, "快散了", month="2024-03"))
        (d,) = doc["dying_groups"]
        assert (d["effective_per_week_prior"], d["effective_per_week_recent"]) == (10.0, 1.0)
        assert d["change"] == -0.9

    def test_first_message_after_joining_not_before(self, engine: Engine) -> None:
        """E wrote in February before any join in the history, then joined in March: the
        wait to speak runs from the join to the March message, a day later."""
        e = IdentityRef("wechat", "wxid_e", "E")
        evs = [
            msg(20, at(2, 20, 10), e, "早"),
            Event("t", "je", Kind.JOIN, at(3, 8, 10), G, e, e, {"method": "qr_code"}),
            msg(21, at(3, 9, 10), e, "又回来了"),
        ]
        ing, fold = Ingester(group_tz="Asia/Shanghai"), rollups.Rollups()
        with engine.begin() as conn:
            fold.on_written(conn, ing.write(conn, evs))
        with engine.connect() as conn:
            n = report.build(conn, resolve(conn, None, month="2024-03"), keywords=False)
        assert n["newcomers"]["joined"] == 1
        assert n["newcomers"]["median_hours_to_first_message"] == 24.0
        assert n["newcomers"]["spoke_within_7d"] == 1


class TestMetricsSqlite(MetricsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestMetricsPostgres(MetricsContract):
    engine_name = "postgres"
