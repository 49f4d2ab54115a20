"""Every format's samples, detected and imported through the real path, on every engine.

The importers' own tests check what each record means; this checks that what
they produce survives the store: detection picks the right format, everything
read is new the first time and nothing the second, and memberships come out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from qunyun import importers
from qunyun.cli import app
from qunyun.importing import run_import
from qunyun.store.schema import events, memberships
from tests.conftest import EngineContract

SAMPLES = Path(__file__).parent.parent / "importers" / "samples"

CASES = [
    ("telegram", "telegram/ChatExport_2024-01-03"),
    ("telegram", "telegram/account_export"),
    ("whatsapp", "whatsapp/WhatsApp Chat with Hiking Club.txt"),
    ("whatsapp", "whatsapp/与深圳跑团的 WhatsApp 聊天.txt"),
    ("whatsapp", "whatsapp/WhatsApp Chat - Family"),
    ("wechat", "wechat/pywxdump"),
    ("wechat", "wechat/memotrace"),
    ("qq", "qq/周末骑行群.txt"),
    ("qq", "qq/qqnt"),
    ("discord", "discord/server"),
    ("slack", "slack/export"),
    ("irc", "irc/irssi"),
    ("irc", "irc/ubuntu"),
    ("irc", "irc/weechat"),
]


def test_every_format_has_a_case() -> None:
    assert {fmt for fmt, _ in CASES} == set(importers.FORMATS) == set(importers.available())


@pytest.mark.parametrize(("fmt", "rel"), CASES)
def test_detects_the_format(fmt: str, rel: str) -> None:
    assert importers.detect(SAMPLES / rel).name == fmt


class SamplesContract(EngineContract):
    @pytest.mark.parametrize(("fmt", "rel"), CASES)
    def test_import_then_reimport(self, engine: Engine, fmt: str, rel: str) -> None:
        first = run_import(engine, SAMPLES / rel, tz="Asia/Shanghai")
        assert first.format == fmt
        t = first.totals()
        assert t["read"] > 0 and t["new"] == t["read"]
        with engine.connect() as conn:
            n_events = conn.execute(select(func.count()).select_from(events)).scalar()
            n_members = conn.execute(select(func.count()).select_from(memberships)).scalar()
        assert n_events == t["new"] and n_members and n_members > 0
        # read again (--force): every event is found already there
        second = run_import(engine, SAMPLES / rel, tz="Asia/Shanghai", force=True).totals()
        assert (second["new"], second["duplicate"]) == (0, t["read"])
        # unchanged: not read again, the earlier counts stand
        third = run_import(engine, SAMPLES / rel, tz="Asia/Shanghai")
        assert third.unchanged_since is not None
        assert third.totals() == second


class TestSamplesSqlite(SamplesContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestSamplesPostgres(SamplesContract):
    engine_name = "postgres"


def test_cli_import_and_stats_json(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    sample = str(SAMPLES / "telegram/ChatExport_2024-01-03")
    res = runner.invoke(app, ["import", sample, "--db", db, "--json", "--tz", "UTC"])
    doc = json.loads(res.stdout)
    assert doc["format"] == "telegram" and doc["totals"]["new"] > 0
    assert res.exit_code == (1 if doc["totals"]["rejected"] else 0)
    again = json.loads(
        runner.invoke(app, ["import", sample, "--db", db, "--json", "--tz", "UTC"]).stdout
    )
    assert again["totals"]["new"] == 0
    stats = runner.invoke(app, ["stats", "--db", db, "--json"])
    assert stats.exit_code == 0, stats.output
    s = json.loads(stats.stdout)
    assert s["totals"]["groups"] == 1
    assert s["totals"]["messages"] == s["groups"][0]["messages"] > 0
    assert sum(m["joins"] for m in s["months"]) == s["totals"]["joins"]


def test_cli_demo_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    args = ["demo", "--groups", "3", "--members", "200", "--days", "30", "--db", db, "--json"]
    first = json.loads(runner.invoke(app, args).stdout)
    assert first["new"] == first["events"] > 0
    second = json.loads(runner.invoke(app, args).stdout)
    assert (second["new"], second["duplicate"]) == (0, first["events"])
    stats = json.loads(runner.invoke(app, ["stats", "--db", db, "--json"]).stdout)
    assert stats["totals"]["groups"] == 3
    res = runner.invoke(app, ["report", "--db", db, "--format", "json", "--month", "2025-06"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["scope"]["from"] == "2025-06-01" and doc["scope"]["to"] == "2025-06-30"
    assert len(doc["activity"]["heatmap"]) == 7
    assert doc["activity"]["messages"] == sum(d["messages"] for d in doc["activity"]["by_day"])
    table = runner.invoke(app, ["report", "--db", db, "--month", "2025-06"])
    assert table.exit_code == 0 and "health score" in table.stdout
    bad = runner.invoke(app, ["report", "--db", db, "--month", "June"])
    assert bad.exit_code != 0 and "--month must look like 2025-06" in str(bad.exception)


def test_bad_path_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["import", str(tmp_path / "nope.json"), "--db", f"sqlite:///{tmp_path}/x.db"]
    )
    assert res.exit_code != 0
    assert "no such file" in str(res.exception)


def _import_dump(tmp_path: Path, name: str, parallel: bool) -> tuple[object, list[object]]:
    from qunyun.store.engine import open_store

    engine = open_store(f"sqlite:///{tmp_path}/{name}.sqlite3")
    rep = run_import(engine, SAMPLES / "telegram/account_export", tz="UTC", parallel=parallel)
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.source_event_id, events.c.kind, events.c.ts, events.c.payload).order_by(
                events.c.source_event_id
            )
        ).all()
    return rep.totals(), [tuple(r) for r in rows]


def test_parallel_reader_gives_the_same_result(tmp_path: Path) -> None:
    assert _import_dump(tmp_path, "serial", False) == _import_dump(tmp_path, "forked", True)


def test_parallel_reader_from_a_thread_is_spawned(tmp_path: Path) -> None:
    """The console's worker thread imports beside other threads: its reader process is
    spawned, not forked, and reads the same."""
    import threading

    from qunyun.importers import parallel

    got: dict[str, object] = {}

    def job() -> None:
        got["method"] = parallel._context().get_start_method()
        got["dump"] = _import_dump(tmp_path, "spawned", True)

    worker = threading.Thread(target=job)
    worker.start()
    worker.join(timeout=120)
    assert got["method"] == "spawn"
    assert got["dump"] == _import_dump(tmp_path, "serial", False)


def test_parallel_reader_keeps_the_error_type(tmp_path: Path) -> None:
    from qunyun.errors import ImportFormatError
    from qunyun.store.engine import open_store

    bad = tmp_path / "x.json"
    bad.write_text('{"x": 1}')
    engine = open_store(f"sqlite:///{tmp_path}/e.sqlite3")
    with pytest.raises(ImportFormatError, match="not a Telegram"):
        run_import(engine, bad, fmt="telegram", tz="UTC", parallel=True)


def test_cli_report_in_another_zone(tmp_path: Path) -> None:
    """--tz gives the report the zone would give if stored, and stores nothing."""
    import sqlite3

    from qunyun.analytics import rollups
    from qunyun.store.engine import open_store
    from qunyun.store.schema import groups

    runner = CliRunner()
    path = tmp_path / "z.sqlite3"
    db = f"sqlite:///{path}"
    demo = ["demo", "--groups", "2", "--members", "150", "--days", "40", "--db", db, "--json"]
    assert runner.invoke(app, demo).exit_code == 0
    args = ["report", "--format", "json", "--month", "2025-06"]

    def report(url: str, *extra: str) -> dict[str, object]:
        res = runner.invoke(app, [*args, "--db", url, *extra])
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        doc.pop("generated_at")
        return dict(doc)

    own = report(db)
    zones = {g["tz"] for g in own["scope"]["groups"]}  # type: ignore[index]
    other = "America/Los_Angeles"
    assert other not in zones
    viewed = report(db, "--tz", other)
    assert {g["tz"] for g in viewed["scope"]["groups"]} == {other}  # type: ignore[index]
    assert viewed["activity"] != own["activity"]  # days and hours moved
    assert report(db) == own  # nothing was stored

    copy = tmp_path / "moved.sqlite3"
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # the WAL's pages too
    engine = open_store(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(groups.update().values(tz=other))
    rollups.rebuild(engine)
    engine.dispose()
    assert report(f"sqlite:///{copy}") == viewed

    bad = runner.invoke(app, [*args, "--db", db, "--tz", "Mars/Olympus"])
    assert bad.exit_code != 0 and "unknown time zone" in str(bad.exception)
