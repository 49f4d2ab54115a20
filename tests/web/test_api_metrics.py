"""Overview, groups, reports and their files; the metric cache."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from qunyun.analytics import overview, report
from qunyun.store.schema import events, memberships
from tests.conftest import EngineContract
from tests.web.conftest import World, error_of, say

HAS_CHROMIUM = shutil.which("chromium") is not None or shutil.which("chromium-browser") is not None


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of ``module.name`` (the computation behind a cached answer)."""
    calls: list[int] = []
    real = getattr(module, name)

    def wrapper(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(module, name, wrapper)
    return calls


class MetricsContract(EngineContract):
    def test_overview_is_for_the_last_30_days_of_data(self, world: World) -> None:
        doc = world.get("admin", "/api/v1/overview").json()
        assert doc["scope"]["days"] == 30
        with world.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(events)).scalar_one()
        # the demo's 30 days, all in the range: every message counted once
        assert doc["totals"]["messages"] <= n and doc["totals"]["messages"] > 0
        assert len(doc["groups"]) == 3

    def test_month_and_range_parameters(self, world: World) -> None:
        doc = world.get("admin", "/api/v1/overview", params={"month": "2025-06"}).json()
        assert (doc["scope"]["from"], doc["scope"]["to"]) == ("2025-06-01", "2025-06-30")
        r = world.get(
            "admin", "/api/v1/overview", params={"from": "2025-06-10", "to": "2025-06-12"}
        )
        assert (r.json()["scope"]["from"], r.json()["scope"]["days"]) == ("2025-06-10", 3)
        for bad in (
            {"month": "2025-13"},
            {"from": "2025-06-12", "to": "2025-06-10"},
            {"month": "2025-06", "from": "2025-06-01"},
            {"from": "yesterday"},
        ):
            r = world.get("admin", "/api/v1/overview", params=bad)
            assert r.status_code == 400, bad
            error_of(r)
        assert (
            world.get("admin", "/api/v1/overview", params={"month": "2025-006"}).status_code == 422
        )

    def test_group_detail_and_report(self, world: World) -> None:
        g = world.get("viewer", f"/api/v1/groups/{world.mine}").json()
        with world.engine.connect() as conn:
            rows = conn.execute(
                select(memberships).where(memberships.c.group_id == world.mine)
            ).all()
        current = [
            r
            for r in rows
            if r.last_left_at is None
            or (r.last_joined_at is not None and r.last_joined_at > r.last_left_at)
        ]
        assert g["id"] == world.mine and g["members"] == len(current)
        rep = world.get("viewer", f"/api/v1/groups/{world.mine}/report").json()
        assert [x["id"] for x in rep["scope"]["groups"]] == [world.mine]
        assert rep["growth"]["members_end"] == g["members"]
        assert "keywords" not in rep or not rep["keywords"]
        kw = world.get("viewer", f"/api/v1/groups/{world.mine}/keywords").json()
        assert kw["messages_analysed"] > 0 and kw["top"]

    def test_groups_page_filter_and_sort(self, world: World) -> None:
        full = world.get("owner", "/api/v1/groups", params={"sort": "title", "order": "asc"}).json()
        titles = [g["title"] for g in full["items"]]
        assert full["total"] == 3 and titles == sorted(titles, key=str.lower)
        by_msgs = world.get("owner", "/api/v1/groups").json()["items"]  # messages, desc
        assert [g["messages"] for g in by_msgs] == sorted(
            (g["messages"] for g in by_msgs), reverse=True
        )
        pages = [
            world.get("owner", "/api/v1/groups", params={"limit": 1, "offset": i}).json()
            for i in range(4)
        ]
        assert [p["total"] for p in pages] == [3, 3, 3, 3]
        assert [g["id"] for p in pages for g in p["items"]] == [g["id"] for g in by_msgs]
        one = by_msgs[0]
        part = one["title"][:3]
        found = world.get("owner", "/api/v1/groups", params={"q": part}).json()
        assert one["id"] in [g["id"] for g in found["items"]]
        assert all(part.lower() in g["title"].lower() for g in found["items"])
        assert found["total"] == len(found["items"])
        none = world.get("owner", "/api/v1/groups", params={"q": "no such group"}).json()
        assert (none["total"], none["items"]) == (0, [])
        assert world.get("owner", "/api/v1/groups", params={"q": one["external_id"]}).json()[
            "items"
        ] == [one]
        tg = world.get("owner", "/api/v1/groups", params={"platform": "telegram"}).json()
        assert tg["total"] == sum(g["platform"] == "telegram" for g in by_msgs)
        assert all(g["platform"] == "telegram" for g in tg["items"])
        dying = world.get("owner", "/api/v1/groups", params={"dying": "true"}).json()
        healthy = world.get("owner", "/api/v1/groups", params={"dying": "false"}).json()
        assert dying["total"] + healthy["total"] == 3
        assert world.get("owner", "/api/v1/groups", params={"sort": "nope"}).status_code == 422

    def test_monthly_report_files(self, world: World) -> None:
        base = {"month": "2025-06", "lang": "en"}
        for fmt, media in (
            ("html", "text/html"),
            ("json", "application/json"),
            ("csv", "text/csv"),
        ):
            r = world.get("viewer", "/api/v1/reports/monthly", params={**base, "format": fmt})
            assert r.status_code == 200, fmt
            assert r.headers["content-type"].startswith(media)
            assert r.headers["content-disposition"] == (
                f'attachment; filename="qunyun-report-2025-06-01-2025-06-30.{fmt}"'
            )
        doc = json.loads(
            world.get("viewer", "/api/v1/reports/monthly", params={**base, "format": "json"}).text
        )
        # the viewer's report covers their one group
        assert [g["id"] for g in doc["scope"]["groups"]] == [world.mine]
        rows = list(
            csv.reader(
                io.StringIO(
                    world.get(
                        "viewer", "/api/v1/reports/monthly", params={**base, "format": "csv"}
                    ).text
                )
            )
        )
        assert len(rows) == 1 + 30  # a header and a row per day
        html = world.get("owner", "/api/v1/reports/monthly", params=base).text
        assert html.lstrip().lower().startswith("<!doctype html")
        zh = world.get("owner", "/api/v1/reports/monthly", params={"month": "2025-06"}).text
        assert "社群" in zh

    @pytest.mark.skipif(not HAS_CHROMIUM, reason="PDF needs Chromium")
    def test_monthly_report_pdf(self, world: World) -> None:
        r = world.get(
            "viewer", "/api/v1/reports/monthly", params={"month": "2025-06", "format": "pdf"}
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF-")
        assert r.headers["content-disposition"].endswith('.pdf"')

    def test_cache_serves_repeats_and_is_invalidated_by_new_events(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        builds = counting(monkeypatch, overview, "build")
        reports = counting(monkeypatch, report, "build")
        first = world.get("admin", "/api/v1/overview").json()
        again = world.get("operator", "/api/v1/groups").json()  # another scope: computed
        assert world.get("admin", "/api/v1/overview").json() == first
        assert world.get("admin", "/api/v1/groups").json()["total"] == 3  # admin's overview
        assert len(builds) == 2
        rep = world.get("admin", f"/api/v1/groups/{world.mine}/report").json()
        assert world.get("admin", f"/api/v1/groups/{world.mine}/report").json() == rep
        assert len(reports) == 1
        # a new message in the first group: every cached answer is recomputed
        with world.engine.connect() as conn:
            ident = (
                conn.execute(
                    select(memberships.c.identity_id).where(memberships.c.group_id == world.mine)
                )
                .scalars()
                .first()
            )
            last = conn.execute(select(func.max(events.c.ts))).scalar_one()
        assert ident is not None
        say(world.engine, world.mine, ident, last - timedelta(hours=1), "新的一条消息，测试缓存")
        after = world.get("admin", "/api/v1/overview").json()
        assert len(builds) == 3
        assert after["totals"]["messages"] == first["totals"]["messages"] + 1
        rep2 = world.get("admin", f"/api/v1/groups/{world.mine}/report").json()
        assert len(reports) == 2
        assert rep2["activity"]["messages"] == rep["activity"]["messages"] + 1
        mine_after = world.get("operator", "/api/v1/groups").json()["items"][0]
        assert mine_after["messages"] == again["items"][0]["messages"] + 1

    def test_members_page_and_filters(self, world: World) -> None:
        full = world.get("admin", "/api/v1/members", params={"limit": 500}).json()
        total = full["total"]
        assert total == len(full["items"]) > 10
        seen: list[int] = []
        for offset in range(0, total, 7):
            page = world.get("admin", "/api/v1/members", params={"limit": 7, "offset": offset})
            doc = page.json()
            assert (doc["total"], doc["limit"], doc["offset"]) == (total, 7, offset)
            seen += [m["id"] for m in doc["items"]]
        assert seen == [m["id"] for m in full["items"]]  # "recent" order, stable
        last = [m["last_seen"] for m in full["items"]]
        assert last == sorted(last, reverse=True)
        beyond = world.get("admin", "/api/v1/members", params={"offset": total}).json()
        assert beyond["items"] == [] and beyond["total"] == total
        # by name part and account id
        one = full["items"][0]
        q = world.get("admin", "/api/v1/members", params={"q": one["name"]}).json()
        assert one["id"] in [m["id"] for m in q["items"]]
        acct = one["identities"][0]["external_id"]
        q = world.get("admin", "/api/v1/members", params={"q": acct}).json()
        assert [m["id"] for m in q["items"]] == [one["id"]]
        # by group, platform, current
        in_mine = world.get(
            "admin", "/api/v1/members", params={"group": world.mine, "limit": 500}
        ).json()
        with world.engine.connect() as conn:
            persons = set(
                conn.execute(
                    select(memberships.c.person_id).where(memberships.c.group_id == world.mine)
                ).scalars()
            )
        assert {m["id"] for m in in_mine["items"]} <= persons
        now = world.get(
            "admin", "/api/v1/members", params={"group": world.mine, "current": "true"}
        ).json()
        gone = world.get(
            "admin", "/api/v1/members", params={"group": world.mine, "current": "false"}
        ).json()
        assert now["total"] + gone["total"] == in_mine["total"]
        g = world.get("admin", f"/api/v1/groups/{world.mine}").json()
        assert now["total"] <= g["members"]
        for platform in ("wechat", "telegram"):
            got = world.get(
                "admin", "/api/v1/members", params={"platform": platform, "limit": 500}
            ).json()
            assert all(
                any(i["platform"] == platform for i in m["identities"]) for m in got["items"]
            )
        by_name = world.get("admin", "/api/v1/members", params={"sort": "messages"}).json()
        counts = [m["messages"] for m in by_name["items"]]
        assert counts == sorted(counts, reverse=True)
        assert world.get("admin", "/api/v1/members", params={"limit": 501}).status_code == 422

    def test_member_events_page(self, world: World) -> None:
        top = world.get("admin", "/api/v1/members", params={"sort": "messages"}).json()["items"][0]
        pid = top["id"]
        full = world.get("admin", f"/api/v1/members/{pid}/events", params={"limit": 500}).json()
        assert len(full["items"]) >= top["messages"]
        first = world.get("admin", f"/api/v1/members/{pid}/events", params={"limit": 3}).json()
        second = world.get(
            "admin", f"/api/v1/members/{pid}/events", params={"limit": 3, "offset": 3}
        ).json()
        assert [e["id"] for e in first["items"] + second["items"]] == [
            e["id"] for e in full["items"][:6]
        ]
        ts = [e["ts"] for e in full["items"]]
        assert ts == sorted(ts, reverse=True)
        detail = world.get("admin", f"/api/v1/members/{pid}").json()
        assert detail["id"] == pid and detail["memberships"]


class TestMetricsSqlite(MetricsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestMetricsPostgres(MetricsContract):
    engine_name = "postgres"
