"""The fast SQL paths agree with the definitions they replace, on a small demo community.

Groups alternate between Shanghai and New York (DST), so local days differ per group.
Checked: the overview against the full report (all groups and each group alone);
time to first response in SQL against the pure ``metrics.first_response`` over the
message stream; member counts in SQL against ``metrics.is_member_on`` over the
loaded memberships.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from qunyun.analytics import data, members, metrics, overview, report, response, rollups
from qunyun.analytics.scope import Scope, day_number, resolve
from qunyun.demo import generate
from qunyun.events import Event
from qunyun.store.ingest import Ingester
from tests.analytics.reference import data as reference_data
from tests.analytics.reference import report as reference_report
from tests.conftest import EngineContract

END = datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
ZONES = ("Asia/Shanghai", "America/New_York")
RANGES = ({"month": "2025-02"}, {"start": "2025-01-06", "end": "2025-02-16"})


def load_demo(engine: Engine) -> None:
    evs = list(generate(groups=6, members=500, days=75, seed=11, end=END).events())
    ids = sorted({e.group.external_id for e in evs})
    zone_of = {gid: ZONES[i % 2] for i, gid in enumerate(ids)}
    fold = rollups.Rollups()
    for tz in ZONES:
        mine: list[Event] = [e for e in evs if zone_of[e.group.external_id] == tz]
        ing = Ingester(group_tz=tz)
        for i in range(0, len(mine), 2000):
            with engine.begin() as conn:
                fold.on_written(conn, ing.write(conn, mine[i : i + 2000]))


def report_numbers(doc: dict[str, Any]) -> dict[str, Any]:
    g, a = doc["growth"], doc["activity"]
    return {
        "members": g["members_end"],
        "joins": g["joins"],
        "leaves": g["leaves"],
        "net": g["net_growth"],
        "messages": a["messages"],
        "effective": a["effective_messages"],
        "active_members": a["active_members"],
    }


def reference_response(conn: Connection, scope: Scope) -> dict[str, Any]:
    start, end = report._utc_bounds(scope)
    said = data.messages(conn, scope, start, end + timedelta(days=7))
    return metrics.first_response(said, end)


def without_clock(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "generated_at"}


class AgreementContract(EngineContract):
    def test_report_equals_first_implementation(self, engine: Engine) -> None:
        load_demo(engine)
        with engine.connect() as conn:
            for kw in (*RANGES, {"start": "2025-02-20", "end": "2025-02-26"}):
                scopes = [resolve(conn, None, **kw)]
                scopes += [resolve(conn, str(g.id), **kw) for g in scopes[0].groups]
                for scope in scopes:
                    got = report.build(conn, scope, keywords=False)
                    expected = reference_report.build(conn, scope, keywords=False)
                    for key in expected:
                        if key != "generated_at":
                            assert got[key] == expected[key], (key, scope.describe())
                    assert set(got) == set(expected)
                    assert got["newcomers"]["joined"] > 0 or len(scope.groups) == 1

    def test_overview_equals_report(self, engine: Engine) -> None:
        load_demo(engine)
        with engine.connect() as conn:
            for kw in RANGES:
                scope = resolve(conn, None, **kw)
                ov = overview.build(conn, scope)
                full = report.build(conn, scope, keywords=False)
                totals = {k: v for k, v in ov["totals"].items() if k not in ("groups", "dying")}
                assert totals == report_numbers(full)
                assert ov["totals"]["dying"] == len(full["dying_groups"])
                assert ov["totals"]["messages"] > 1000 and ov["totals"]["net"] != 0
                by_day = zip(full["growth"]["by_day"], full["activity"]["by_day"], strict=True)
                assert ov["daily"] == [
                    {
                        "date": g["date"],
                        "joins": g["joins"],
                        "leaves": g["leaves"],
                        "messages": a["messages"],
                        "effective": a["effective"],
                    }
                    for g, a in by_day
                ]
                health = {h["id"]: h for h in full["health"]["groups"]}
                for row in ov["groups"]:
                    one = report.build(conn, resolve(conn, str(row["id"]), **kw), keywords=False)
                    assert {k: row[k] for k in report_numbers(one)} == report_numbers(one)
                    assert row["active_share"] == one["activity"]["active_share"]
                    h = health[row["id"]]
                    assert (row["health_score"], row["dying"], row["change"]) == (
                        h["score"],
                        h["dying"],
                        h["change"],
                    )
                    assert one["health"]["groups"][0]["score"] == h["score"]

    def test_response_in_sql_equals_definition(self, engine: Engine) -> None:
        load_demo(engine)
        with engine.connect() as conn:
            for kw in RANGES:
                scope = resolve(conn, None, **kw)
                expected = reference_response(conn, scope)
                assert expected["questions"] > 50
                assert report.build(conn, scope, keywords=False)["response"] == expected
                for g in scope.groups:
                    one = Scope((g,), scope.first_day, scope.last_day)
                    start, end = report._utc_bounds(one)
                    got = response.section(conn, [g.id], start, end + timedelta(days=7), end)
                    assert got == reference_response(conn, one)
            # a window that closes before answers come: the unanswered stay unanswered
            scope = resolve(conn, None, month="2025-02")
            lo = datetime(2025, 2, 1, tzinfo=UTC)
            hi = datetime(2025, 2, 3, tzinfo=UTC)
            said = data.messages(conn, scope, lo, hi)
            expected = metrics.first_response(said, hi)
            assert response.section(conn, scope.group_ids, lo, hi, hi) == expected
            medians = response.medians(conn, scope.group_ids, lo, hi)
            for g in scope.groups:
                one = Scope((g,), scope.first_day, scope.last_day)
                ref = metrics.first_response(data.messages(conn, one, lo, hi), hi)
                assert medians.get(g.id) == ref["median_minutes"]

    def test_member_counts_in_sql_equal_definition(self, engine: Engine) -> None:
        load_demo(engine)
        with engine.connect() as conn:
            scope = resolve(conn, None, month="2025-02")
            loaded = reference_data.load(conn, scope).members
            for first, last in (
                (day_number(datetime(2025, 1, 31).date()), scope.last_day),
                (scope.last_day - 28, scope.last_day),
                (scope.first_day - 40, scope.first_day + 3),
            ):
                got = members.counts(conn, scope, first, last)
                for g in scope.groups:
                    ms = [m for m in loaded if m.group_id == g.id]
                    at_first = {m for m in ms if metrics.is_member_on(m, first)}
                    at_last = {m for m in ms if metrics.is_member_on(m, last)}
                    expected = (len(at_first), len(at_last), len(at_first & at_last))
                    assert got.get(g.id, (0, 0, 0)) == expected


class TestAgreementSqlite(AgreementContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestAgreementPostgres(AgreementContract):
    engine_name = "postgres"
