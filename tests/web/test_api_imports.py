"""Uploading exports through the API and following the job to its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from qunyun.jobs.worker import Worker
from qunyun.store.schema import events, groups, jobs
from tests.conftest import EngineContract
from tests.web.conftest import SAMPLES, World, error_of

TELEGRAM = SAMPLES / "telegram" / "ChatExport_2024-01-03" / "result.json"
QQ = SAMPLES / "qq" / "周末骑行群.txt"


def upload(w: World, role: str, path: Path, data: bytes | None = None, **form: str) -> Any:
    body = path.read_bytes() if data is None else data
    return w.post(role, "/api/v1/imports", files={"file": (path.name, body)}, data=form)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def run_job(w: World, job_id: int, role: str = "owner") -> dict[str, Any]:
    assert Worker(w.engine).step() is True
    r = w.get(role, f"/api/v1/imports/{job_id}")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def uploads(home: Path) -> list[Path]:
    folder = home / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


class ImportsContract(EngineContract):
    def test_upload_runs_to_done_and_reupload_adds_nothing(self, world: World, home: Path) -> None:
        before = count(world.engine, events)
        r = upload(world, "operator", TELEGRAM, tz="Asia/Shanghai")
        assert r.status_code == 202
        job = r.json()
        assert (job["kind"], job["status"], job["created_by"]) == ("import", "queued", "operator")
        assert job["params"]["filename"] == "result.json" and job["params"]["tz"] == "Asia/Shanghai"
        assert len(uploads(home)) == 1
        done = run_job(world, job["id"], "operator")
        assert done["status"] == "done" and done["error"] is None
        assert done["started_at"] and done["finished_at"]
        result = done["result"]
        assert result["format"] == "telegram" and result["path"] == "result.json"
        (f,) = result["files"]
        assert f["file"] == "result.json"  # not the server's upload folder
        assert f["read"] > 0 and f["new"] == f["read"] and f["duplicate"] == 0
        assert result["totals"]["new"] == f["new"]
        assert done["progress"]["files"] == [
            {"name": "result.json", "read": f["read"], "new": f["new"]}
        ]
        assert count(world.engine, events) == before + f["new"]
        assert uploads(home) == []  # the upload is removed once imported
        # the same export again: everything is a duplicate
        again = run_job(world, upload(world, "operator", TELEGRAM, tz="Asia/Shanghai").json()["id"])
        (f2,) = again["result"]["files"]
        assert again["status"] == "done"
        assert (f2["read"], f2["new"], f2["duplicate"]) == (f["read"], 0, f["read"])
        assert count(world.engine, events) == before + f["new"]

    def test_operators_new_group_becomes_theirs(self, world: World) -> None:
        mine = [g["id"] for g in world.get("operator", "/api/v1/groups").json()["items"]]
        assert mine == [world.mine]
        job = upload(world, "operator", QQ, format="qq", tz="Asia/Shanghai").json()
        assert run_job(world, job["id"])["status"] == "done"
        with world.engine.connect() as conn:
            every = conn.execute(select(groups.c.id).order_by(groups.c.id)).scalars().all()
        new = [g for g in every if g not in world.group_ids]
        assert new  # the QQ export's groups
        me = world.get("operator", "/api/v1/me").json()
        assert me["group_ids"] == [world.mine, *new]
        listed = world.get("operator", "/api/v1/groups").json()["items"]
        assert sorted(g["id"] for g in listed) == [world.mine, *new]
        # the viewer limited to the first group still does not see them
        assert world.get("viewer", f"/api/v1/groups/{new[0]}").status_code == 404

    def test_unreadable_upload_fails_clearly_and_writes_nothing(
        self, world: World, home: Path
    ) -> None:
        before = count(world.engine, events)
        junk = b"hello\nthis is not a chat export at all\n"
        job = upload(world, "admin", Path("notes.txt"), junk).json()
        done = run_job(world, job["id"])
        assert done["status"] == "failed"
        assert done["error"].startswith("notes.txt: cannot tell which chat export this is")
        assert "uploads" not in done["error"] and str(home) not in done["error"]
        err = done["result"]["error"]
        assert err["code"] == "format_not_detected" and err["zh"].startswith("notes.txt：")
        assert count(world.engine, events) == before
        assert uploads(home) == []

    def test_wrong_format_for_the_file_fails_and_writes_nothing(self, world: World) -> None:
        before = count(world.engine, events)
        job = upload(world, "admin", QQ, format="telegram").json()
        done = run_job(world, job["id"])
        assert done["status"] == "failed", done
        assert done["error"] and "周末骑行群.txt" in done["error"]
        assert count(world.engine, events) == before

    def test_bad_options_are_refused_before_any_job(self, world: World, home: Path) -> None:
        for form, code in (({"format": "myspace"}, "unknown_format"), ({"tz": "Mars/Base"}, None)):
            r = upload(world, "operator", QQ, **form)
            assert r.status_code == 400, form
            err = error_of(r)
            if code:
                assert err["code"] == code
        r = upload(world, "operator", Path("empty.txt"), b"")
        assert r.status_code == 400 and error_of(r)["code"] == "empty_file"
        r = world.post("operator", "/api/v1/imports", data={"format": "qq"})  # no file
        assert r.status_code == 422
        assert count(world.engine, jobs) == 0 and uploads(home) == []

    def test_oversized_upload_is_refused(
        self, world: World, home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("QUNYUN_MAX_UPLOAD_MB", "1")
        r = upload(world, "operator", Path("big.txt"), b"x" * ((1 << 20) + 1))
        assert r.status_code == 400
        err = error_of(r)
        assert err["code"] == "too_large" and "1 MB" in err["message"]
        assert count(world.engine, jobs) == 0 and uploads(home) == []
        # exactly the limit is fine
        r = upload(world, "operator", Path("fits.txt"), b"x" * (1 << 20))
        assert r.status_code == 202

    def test_file_names_cannot_escape_the_upload_folder(self, world: World, home: Path) -> None:
        r = world.post(
            "operator",
            "/api/v1/imports",
            files={"file": ("../../../etc/evil.txt", QQ.read_bytes())},
        )
        assert r.status_code == 202
        (folder,) = uploads(home)
        assert [p.name for p in folder.iterdir()] == ["evil.txt"]
        assert r.json()["params"]["filename"] == "evil.txt"

    def test_listing_pages_and_scopes(self, world: World) -> None:
        for role in ("operator", "operator", "admin", "owner", "operator"):
            assert upload(world, role, QQ).status_code == 202
        page = world.get("owner", "/api/v1/imports", params={"limit": 2}).json()
        assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 0, 2)
        ids = [j["id"] for j in page["items"]]
        for offset in (2, 4):
            more = world.get("owner", "/api/v1/imports", params={"limit": 2, "offset": offset})
            ids += [j["id"] for j in more.json()["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5  # newest first
        # the operator (limited to a group) sees the jobs they started, no others
        own = world.get("operator", "/api/v1/imports").json()
        assert own["total"] == 3 and {j["created_by"] for j in own["items"]} == {"operator"}
        others = [j["id"] for j in page["items"] if j["created_by"] != "operator"]
        r = world.get("operator", f"/api/v1/imports/{others[0]}")
        assert r.status_code == 404
        assert world.get("viewer", "/api/v1/imports").json()["total"] == 0
        r = world.get("owner", "/api/v1/imports", params={"limit": 201})
        assert r.status_code == 422

    def test_demo_job_loads_a_community(self, world: World) -> None:
        r = world.post(
            "admin", "/api/v1/demo", json={"groups": 2, "members": 10, "days": 14, "seed": 5}
        )
        assert r.status_code == 202 and r.json()["kind"] == "demo"
        done = run_job(world, r.json()["id"])
        assert done["status"] == "done", done
        assert done["result"]["totals"]["new"] > 0
        assert world.get("admin", "/api/v1/groups").json()["total"] == 5
        r = world.post("admin", "/api/v1/demo", json={"groups": 0})
        assert r.status_code == 422

    def test_import_start_is_audited(self, world: World) -> None:
        job = upload(world, "operator", QQ).json()
        audit = world.get("owner", "/api/v1/audit", params={"action": "import."}).json()
        (entry,) = audit["items"]
        assert (entry["user"], entry["action"], entry["target"]) == (
            "operator",
            "import.start",
            "周末骑行群.txt",
        )
        assert entry["detail"] == {"job_id": job["id"]}

    def test_worker_thread_runs_uploads(self, world: World) -> None:
        """The in-process worker of ``create_app(worker=True)`` picks jobs up by itself."""
        import time

        from fastapi.testclient import TestClient

        from qunyun.web.app import create_app

        with TestClient(create_app(world.engine, worker=True)) as client:
            h = world.auth("owner")
            r = client.post(
                "/api/v1/imports", headers=h, files={"file": (QQ.name, QQ.read_bytes())}
            )
            jid = r.json()["id"]
            deadline = time.monotonic() + 20
            status = "queued"
            while status in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.05)
                status = client.get(f"/api/v1/imports/{jid}", headers=h).json()["status"]
        assert status == "done"


class TestImportsSqlite(ImportsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestImportsPostgres(ImportsContract):
    engine_name = "postgres"
