"""The job queue and the worker, without the web."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from qunyun.accounts.roles import CLI, Actor, Role
from qunyun.jobs import queue, worker
from qunyun.jobs.worker import Worker
from qunyun.store.schema import events, jobs
from tests.conftest import EngineContract

SAMPLES = Path(__file__).parent.parent / "importers" / "samples"
QQ = SAMPLES / "qq" / "周末骑行群.txt"


def enqueue(engine: Engine, kind: str, params: dict[str, Any], actor: Actor = CLI) -> int:
    with engine.begin() as conn:
        return queue.enqueue(conn, actor, kind, params)


def job(engine: Engine, jid: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return queue.get(conn, CLI, jid)


class JobsContract(EngineContract):
    def test_claim_takes_the_oldest_once(self, engine: Engine) -> None:
        a = enqueue(engine, "import", {"filename": "a"})
        b = enqueue(engine, "import", {"filename": "b"})
        first = queue.claim(engine, "w1")
        second = queue.claim(engine, "w2")
        assert first is not None and second is not None
        assert (first.id, second.id) == (a, b)
        assert first.params == {"filename": "a"} and first.kind == "import"
        assert queue.claim(engine, "w3") is None
        row = job(engine, a)
        assert row["status"] == "running" and row["started_at"] and row["finished_at"] is None

    def test_finish_and_progress(self, engine: Engine) -> None:
        jid = enqueue(engine, "import", {})
        assert queue.claim(engine) is not None
        queue.report_progress(engine, jid, {"files": [], "file": {"name": "x", "read": 3}})
        assert job(engine, jid)["progress"]["file"]["read"] == 3
        queue.finish(engine, jid, queue.DONE, result={"ok": True})
        row = job(engine, jid)
        assert (row["status"], row["result"], row["error"]) == ("done", {"ok": True}, None)
        assert row["finished_at"]

    def test_visibility(self, engine: Engine) -> None:
        scoped = Actor(7, "op", Role.operator, all_groups=False, group_ids=frozenset({1}))
        everyone = Actor(8, "op2", Role.operator, all_groups=True)
        # jobs by users that do not exist would break the foreign key: use the CLI's
        mine = enqueue(engine, "import", {"filename": "x"})
        with engine.begin() as conn:
            conn.execute(update(jobs).values(created_by=None))
        with engine.connect() as conn:
            assert queue.listing(conn, scoped)[1] == 0
            assert queue.listing(conn, everyone)[1] == 1
            with pytest.raises(Exception, match="no job"):
                queue.get(conn, scoped, mine)
            assert queue.get(conn, everyone, mine)["created_by"] is None
            assert queue.listing(conn, everyone, kind="demo")[1] == 0

    def test_orphans_of_dead_workers_are_requeued(self, engine: Engine) -> None:
        host = socket.gethostname()
        dead = enqueue(engine, "import", {})
        alive = enqueue(engine, "import", {})
        elsewhere = enqueue(engine, "import", {})
        queue.claim(engine, f"{host}:999999999")  # no such process
        queue.claim(engine, f"{host}:1")  # init: alive
        queue.claim(engine, "another-host:5")  # cannot tell: left alone
        assert queue.requeue_orphans(engine) == 1
        assert [job(engine, j)["status"] for j in (dead, alive, elsewhere)] == [
            "queued",
            "running",
            "running",
        ]
        assert job(engine, dead)["started_at"] is None

    def test_worker_runs_an_import(
        self, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("QUNYUN_HOME", str(tmp_path))
        folder = tmp_path / "uploads" / "abc"
        folder.mkdir(parents=True)
        (folder / QQ.name).write_bytes(QQ.read_bytes())
        params = {
            "path": str(folder / QQ.name),
            "filename": QQ.name,
            "format": "qq",
            "tz": "Asia/Shanghai",
            "group": None,
        }
        jid = enqueue(engine, "import", params)
        w = Worker(engine)
        assert w.step() is True and w.step() is False
        row = job(engine, jid)
        assert row["status"] == "done", row
        assert row["result"]["files"][0]["file"] == QQ.name
        assert not folder.exists()  # the upload is removed
        with engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(events)).scalar_one()
        assert n == row["result"]["totals"]["new"] > 0

    def test_a_crashing_job_fails_and_the_worker_lives_on(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def boom(engine: Engine, job: queue.Job) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setitem(worker.RUNNERS, "import", boom)
        bad = enqueue(engine, "import", {})
        good = enqueue(engine, "demo", {"groups": 1, "members": 10, "days": 14, "seed": 1})
        w = Worker(engine)
        assert w.step() and w.step()
        assert job(engine, bad)["status"] == "failed"
        assert "disk on fire" in job(engine, bad)["error"]
        assert job(engine, good)["status"] == "done"

    def test_upkeep_folds_events_written_without_rollups(self, engine: Engine) -> None:
        from qunyun.analytics import rollups
        from qunyun.demo import generate
        from qunyun.store.ingest import Ingester

        with engine.begin() as conn:  # a bulk load that skipped the rollups
            Ingester(group_tz="Asia/Shanghai").write(
                conn, list(generate(1, 10, 14, seed=3).events())
            )
        with engine.connect() as conn:
            top = conn.execute(select(func.max(events.c.id))).scalar_one()
            assert top > 0 and rollups.position(conn) == 0
        Worker(engine).upkeep()
        with engine.connect() as conn:
            assert rollups.position(conn) == top


class TestJobsSqlite(JobsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestJobsPostgres(JobsContract):
    engine_name = "postgres"
