"""The audit log and console settings through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import EngineContract
from tests.web.conftest import World, error_of


def audit(w: World, **params: Any) -> dict[str, Any]:
    r = w.get("owner", "/api/v1/audit", params=params)
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


class AdminContract(EngineContract):
    def test_every_account_change_is_audited(self, world: World) -> None:
        start = audit(world)["total"]
        assert start == 8  # the fixture's four users and four tokens, made by the CLI
        created = world.post("admin", "/api/v1/users", json={"name": "ann", "role": "viewer"})
        uid = created.json()["user"]["id"]
        world.call("admin", "PATCH", f"/api/v1/users/{uid}", json={"group_ids": [world.mine]})
        world.call("admin", "PUT", f"/api/v1/users/{uid}/password", json={"new": "0123456789ab"})
        tok = world.post("admin", "/api/v1/tokens", json={"user": "ann", "name": "ci"}).json()
        world.call("admin", "DELETE", f"/api/v1/tokens/{tok['token']['id']}")
        world.call("admin", "PUT", "/api/v1/settings", json={"tz": "UTC", "lang": "en"})
        world.call("admin", "DELETE", f"/api/v1/users/{uid}")
        world.login("ann", "wrong password")  # a failed sign-in is not a change
        world.login("viewer")
        doc = audit(world, limit=20)
        got = [(e["user"], e["action"], e["target"], e["detail"]) for e in doc["items"]]
        assert doc["total"] == start + 8
        assert got[:9] == [
            ("viewer", "auth.login", "viewer", None),
            ("admin", "user.delete", "ann", None),
            ("admin", "settings.change", None, {"tz": "UTC", "lang": "en"}),
            ("admin", "token.revoke", "ann/ci", {"token_id": tok["token"]["id"]}),
            ("admin", "token.create", "ann/ci", {"token_id": tok["token"]["id"]}),
            ("admin", "user.password", "ann", None),
            ("admin", "user.change", "ann", {"group_ids": [world.mine]}),
            (
                "admin",
                "user.create",
                "ann",
                {"role": "viewer", "all_groups": False, "group_ids": []},
            ),
            ("cli", "token.create", "viewer/tests", {"token_id": 4}),  # the fixture's last
        ]
        assert all(e["ip"] == "testclient" for e in doc["items"][:8])
        assert all(e["at"] for e in doc["items"])

    def test_refused_changes_leave_no_trace(self, world: World) -> None:
        start = audit(world)["total"]
        world.post("viewer", "/api/v1/users", json={"name": "eve", "role": "viewer"})
        world.call(
            "admin", "PATCH", f"/api/v1/users/{world.user_ids['owner']}", json={"role": "viewer"}
        )
        world.call("viewer", "PUT", "/api/v1/settings", json={"tz": "UTC"})
        world.call("owner", "PUT", "/api/v1/settings", json={"tz": "Mars/Base"})
        assert audit(world)["total"] == start

    def test_audit_pages_and_filters(self, world: World) -> None:
        for i in range(3):
            world.post("admin", "/api/v1/tokens", json={"name": f"t{i}"})
        total = audit(world)["total"]
        assert total == 11
        pages = [audit(world, limit=4, offset=o) for o in (0, 4, 8)]
        assert [len(p["items"]) for p in pages] == [4, 4, 3]
        assert all((p["total"], p["limit"]) == (total, 4) for p in pages)
        ids = [e["id"] for p in pages for e in p["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == total
        by_admin = audit(world, user="admin")
        assert by_admin["total"] == 3
        assert {e["action"] for e in by_admin["items"]} == {"token.create"}
        users_only = audit(world, action="user.")
        assert users_only["total"] == 4
        assert all(e["action"].startswith("user.") for e in users_only["items"])
        assert audit(world, user="admin", action="user.")["total"] == 0
        assert audit(world, action="nothing")["items"] == []
        for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
            r = world.get("owner", "/api/v1/audit", params=bad)
            assert r.status_code == 422, bad
            assert error_of(r)["code"] == "invalid"

    def test_settings_change_the_default_language(self, world: World) -> None:
        assert world.get("viewer", "/api/v1/settings").json() == {
            "tz": "Asia/Shanghai",
            "lang": "auto",
        }
        r = world.call("admin", "PUT", "/api/v1/settings", json={"lang": "zh"})
        assert r.json() == {"tz": "Asia/Shanghai", "lang": "zh"}
        # the console default now beats the browser's Accept-Language
        r = world.get("viewer", "/api/v1/users", headers={"Accept-Language": "en"})
        assert error_of(r)["message"].startswith("此操作需要")
        r = world.call("admin", "PUT", "/api/v1/settings", json={"tz": "Nowhere/City"})
        assert r.status_code == 400
        r = world.call("admin", "PUT", "/api/v1/settings", json={"lang": "fr"})
        assert r.status_code == 422
        assert world.get("viewer", "/api/v1/settings").json()["tz"] == "Asia/Shanghai"


class TestAdminSqlite(AdminContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestAdminPostgres(AdminContract):
    engine_name = "postgres"
