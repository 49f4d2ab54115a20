"""The HTML report: self-contained, escaped, both languages; PDF when Chromium is here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from qunyun.analytics import report, rollups
from qunyun.analytics.scope import resolve
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.reports.findings import findings
from qunyun.reports.html import render_html
from qunyun.reports.pdf import find_chromium, render_pdf
from qunyun.store.ingest import Ingester
from qunyun.testing.factories import at

EVIL = "<script>alert(1)</script>"


def _doc(engine: Engine) -> dict[str, Any]:
    g = GroupRef("telegram", "-1001", f"读书会 {EVIL}")
    a, b = IdentityRef("telegram", "1", "阿甲"), IdentityRef("telegram", "2", f"B {EVIL}")
    evs = [
        Event("t", "j1", Kind.JOIN, at(0), g, a, a, {"method": "invite_link"}),
        Event("t", "j2", Kind.JOIN, at(5), g, a, b, {"method": "invited_by"}),
        Event("t", "m1", Kind.MESSAGE, at(60), g, a, None, {"text": "周末读什么书？"}),
        Event("t", "m2", Kind.MESSAGE, at(70), g, b, None, {"text": "读《三体》吧"}),
    ]
    ing, fold = Ingester(group_tz="Asia/Shanghai"), rollups.Rollups()
    with engine.begin() as conn:
        fold.on_written(conn, ing.write(conn, evs))
    with engine.connect() as conn:
        return report.build(conn, resolve(conn, None, month="2024-03"))


def test_self_contained_escaped_bilingual(sqlite_engine: Engine) -> None:
    doc = _doc(sqlite_engine)
    for lang, title in (("zh", "社群月报"), ("en", "Community report")):
        page = render_html(doc, lang)
        assert title in page
        assert EVIL not in page and "&lt;script&gt;" in page
        assert not re.search(r"""(src|href)=["']?https?:""", page)
        assert "<script" not in page.lower()
        assert page.count("<svg") >= 4  # members, joins, heatmap, funnel (+ word cloud)
        assert "invited by 阿甲" in page or "阿甲 邀请" in page
        assert "identity:" not in page  # sources are named, in findings too


def test_findings_state_what_the_numbers_say(sqlite_engine: Engine) -> None:
    doc = _doc(sqlite_engine)
    en = findings(doc, "en")
    assert "Friday 21:00 is the busiest hour." in en  # 13:00 and 13:10 UTC on 1 March = 21:xx
    assert any(f.startswith("Questions get a first reply in 10 minutes") for f in en)
    zh = findings(doc, "zh")
    assert "周五 21:00 最活跃。" in zh


@pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed: PDF not tested")
def test_pdf(sqlite_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    render_pdf(render_html(_doc(sqlite_engine), "zh"), out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000


def test_csv_one_row_per_day(sqlite_engine: Engine) -> None:
    import csv
    import io

    from qunyun.reports.csv_export import COLUMNS, render_csv

    doc = _doc(sqlite_engine)
    rows = list(csv.DictReader(io.StringIO(render_csv(doc))))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 31
    first = rows[0]  # 1 March: both joins and both messages
    assert (first["date"], first["joins"], first["messages"], first["effective"]) == (
        "2024-03-01",
        "2",
        "2",
        "2",
    )
    assert sum(int(r["messages"]) for r in rows) == doc["activity"]["messages"]


def test_join_sources_name_the_channel_and_how() -> None:
    """A link of Ann's and Ann adding someone are two channels, and read as such."""
    from qunyun.reports.sources import source_label

    def row(method: str, source: str, inviter: str | None = None) -> dict[str, object]:
        return {"method": method, "source": source, "inviter": inviter}

    assert source_label(row("invited_by", "identity:1", "Ann"), "en") == "invited by Ann"
    assert source_label(row("invite_link", "identity:1", "Ann"), "en") == "invite link of Ann"
    assert source_label(row("qr_code", "identity:1", "Ann"), "zh") == "Ann 分享的二维码"
    assert source_label(row("approved", "", None), "en") == "join request approved"
    assert source_label(row("invite_link", "https://t.me/+abc", None), "en") == "https://t.me/+abc"
    assert source_label(row("unknown", "", None), "zh") == "未知"
