"""Every endpoint, called by every role: who may do what, and who sees which groups.

The operator and the viewer are limited to ``world.mine``; ``world.other`` is a group
they must not see — not even learn that it exists (404, never 403).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from qunyun.accounts import tokens
from qunyun.accounts.roles import CLI
from qunyun.store.schema import memberships
from tests.conftest import EngineContract
from tests.web.conftest import ROLES, SAMPLES, World, error_of, make_user

_names = itertools.count()


def fresh_user(w: World, role: str = "viewer") -> int:
    uid, _ = make_user(w.engine, f"u{next(_names)}-{role}", role)
    return uid


def fresh_token_of(w: World, role: str) -> int:
    with w.engine.begin() as conn:
        row, _ = tokens.create(conn, CLI, role, "extra")
    return int(row["id"])


def members_by_scope(w: World) -> tuple[int, int]:
    """A person seen in the operator's group, and one seen only in other groups."""
    with w.engine.connect() as conn:
        rows = conn.execute(select(memberships.c.person_id, memberships.c.group_id)).all()
    groups_of: dict[int, set[int]] = {}
    for pid, gid in rows:
        groups_of.setdefault(pid, set()).add(gid)
    inside = next(p for p, g in sorted(groups_of.items()) if w.mine in g)
    outside = next(p for p, g in sorted(groups_of.items()) if w.mine not in g)
    return inside, outside


def upload() -> dict[str, Any]:
    path = SAMPLES / "qq" / "周末骑行群.txt"
    return {"files": {"file": (path.name, path.read_bytes(), "text/plain")}}


ALL = dict.fromkeys(ROLES, 200)
ADMINS = {"owner": 200, "admin": 200, "operator": 403, "viewer": 403}
SCOPED = {"owner": 200, "admin": 200, "operator": 404, "viewer": 404}

#: (name, method, url(world), request kwargs(world), expected status per role)
Case = tuple[str, str, Callable[[World], str], Callable[[World], dict[str, Any]], dict[str, int]]
NONE: Callable[[World], dict[str, Any]] = lambda w: {}  # noqa: E731

CASES: list[Case] = [
    ("me", "GET", lambda w: "/api/v1/me", NONE, ALL),
    ("lang", "PUT", lambda w: "/api/v1/me/lang", lambda w: {"json": {"lang": "en"}}, ALL),
    ("users", "GET", lambda w: "/api/v1/users", NONE, ADMINS),
    ("own user", "GET", lambda w: "/api/v1/users/{me}", NONE, ALL),
    ("other user", "GET", lambda w: f"/api/v1/users/{w.user_ids['owner']}", NONE,
     {"owner": 200, "admin": 200, "operator": 403, "viewer": 403}),
    ("create viewer", "POST", lambda w: "/api/v1/users",
     lambda w: {"json": {"name": f"n{next(_names)}", "role": "viewer"}},
     {"owner": 201, "admin": 201, "operator": 403, "viewer": 403}),
    ("create operator with groups", "POST", lambda w: "/api/v1/users",
     lambda w: {"json": {"name": f"n{next(_names)}", "role": "operator", "group_ids": [w.mine]}},
     {"owner": 201, "admin": 201, "operator": 403, "viewer": 403}),
    ("create admin", "POST", lambda w: "/api/v1/users",
     lambda w: {"json": {"name": f"n{next(_names)}", "role": "admin"}},
     {"owner": 201, "admin": 403, "operator": 403, "viewer": 403}),
    ("create owner", "POST", lambda w: "/api/v1/users",
     lambda w: {"json": {"name": f"n{next(_names)}", "role": "owner"}},
     {"owner": 201, "admin": 403, "operator": 403, "viewer": 403}),
    ("change viewer", "PATCH", lambda w: f"/api/v1/users/{fresh_user(w)}",
     lambda w: {"json": {"group_ids": [w.mine]}}, ADMINS),
    ("promote to admin", "PATCH", lambda w: f"/api/v1/users/{fresh_user(w)}",
     lambda w: {"json": {"role": "admin"}},
     {"owner": 200, "admin": 403, "operator": 403, "viewer": 403}),
    ("change admin", "PATCH", lambda w: f"/api/v1/users/{fresh_user(w, 'admin')}",
     lambda w: {"json": {"disabled": True}},
     {"owner": 200, "admin": 403, "operator": 403, "viewer": 403}),
    ("delete viewer", "DELETE", lambda w: f"/api/v1/users/{fresh_user(w)}", NONE,
     {"owner": 204, "admin": 204, "operator": 403, "viewer": 403}),
    ("delete admin", "DELETE", lambda w: f"/api/v1/users/{fresh_user(w, 'admin')}", NONE,
     {"owner": 204, "admin": 403, "operator": 403, "viewer": 403}),
    ("set viewer password", "PUT", lambda w: f"/api/v1/users/{fresh_user(w)}/password",
     lambda w: {"json": {"new": "another password"}},
     {"owner": 204, "admin": 204, "operator": 403, "viewer": 403}),
    ("set admin password", "PUT", lambda w: f"/api/v1/users/{fresh_user(w, 'admin')}/password",
     lambda w: {"json": {"new": "another password"}},
     {"owner": 204, "admin": 403, "operator": 403, "viewer": 403}),
    ("own tokens", "GET", lambda w: "/api/v1/tokens", NONE, ALL),
    ("all tokens", "GET", lambda w: "/api/v1/tokens?all=true", NONE, ADMINS),
    ("own token", "POST", lambda w: "/api/v1/tokens", lambda w: {"json": {"name": "t"}},
     dict.fromkeys(ROLES, 201)),
    ("token for a viewer", "POST", lambda w: "/api/v1/tokens",
     lambda w: {"json": {"user": "viewer", "name": "t"}},
     {"owner": 201, "admin": 201, "operator": 403, "viewer": 201}),
    ("token for an operator", "POST", lambda w: "/api/v1/tokens",
     lambda w: {"json": {"user": "operator", "name": "t"}},
     {"owner": 201, "admin": 201, "operator": 201, "viewer": 403}),
    ("token for the owner", "POST", lambda w: "/api/v1/tokens",
     lambda w: {"json": {"user": "owner", "name": "t"}},
     {"owner": 201, "admin": 403, "operator": 403, "viewer": 403}),
    ("revoke another's token", "DELETE", lambda w: f"/api/v1/tokens/{fresh_token_of(w, 'owner')}",
     NONE, {"owner": 200, "admin": 200, "operator": 404, "viewer": 404}),
    ("revoke own token", "DELETE", lambda w: "/api/v1/tokens/{own_token}", NONE, ALL),
    ("audit", "GET", lambda w: "/api/v1/audit", NONE, ADMINS),
    ("settings", "GET", lambda w: "/api/v1/settings", NONE, ALL),
    ("change settings", "PUT", lambda w: "/api/v1/settings",
     lambda w: {"json": {"lang": "zh"}}, ADMINS),
    ("formats", "GET", lambda w: "/api/v1/formats", NONE, ALL),
    ("import", "POST", lambda w: "/api/v1/imports", lambda w: upload(),
     {"owner": 202, "admin": 202, "operator": 202, "viewer": 403}),
    ("demo", "POST", lambda w: "/api/v1/demo",
     lambda w: {"json": {"groups": 1, "members": 10, "days": 14}},
     {"owner": 202, "admin": 202, "operator": 403, "viewer": 403}),
    ("imports", "GET", lambda w: "/api/v1/imports", NONE, ALL),
    ("members", "GET", lambda w: "/api/v1/members", NONE, ALL),
    ("members of my group", "GET", lambda w: f"/api/v1/members?group={w.mine}", NONE, ALL),
    ("members of another group", "GET", lambda w: f"/api/v1/members?group={w.other}", NONE,
     SCOPED),
    ("member seen in my group", "GET", lambda w: f"/api/v1/members/{members_by_scope(w)[0]}",
     NONE, ALL),
    ("member seen only elsewhere", "GET",
     lambda w: f"/api/v1/members/{members_by_scope(w)[1]}", NONE, SCOPED),
    ("events of a member elsewhere", "GET",
     lambda w: f"/api/v1/members/{members_by_scope(w)[1]}/events", NONE, SCOPED),
    ("overview", "GET", lambda w: "/api/v1/overview", NONE, ALL),
    ("groups", "GET", lambda w: "/api/v1/groups", NONE, ALL),
    ("my group", "GET", lambda w: f"/api/v1/groups/{w.mine}", NONE, ALL),
    ("my group's report", "GET", lambda w: f"/api/v1/groups/{w.mine}/report", NONE, ALL),
    ("another group", "GET", lambda w: f"/api/v1/groups/{w.other}", NONE, SCOPED),
    ("another group's report", "GET", lambda w: f"/api/v1/groups/{w.other}/report", NONE, SCOPED),
    ("another group's keywords", "GET", lambda w: f"/api/v1/groups/{w.other}/keywords", NONE,
     SCOPED),
    ("report file of my group", "GET",
     lambda w: f"/api/v1/reports/monthly?format=json&group={w.mine}", NONE, ALL),
    ("report file of another group", "GET",
     lambda w: f"/api/v1/reports/monthly?format=json&group={w.other}", NONE, SCOPED),
]  # fmt: skip


class RolesContract(EngineContract):
    @pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
    def test_every_role(self, world: World, case: Case) -> None:
        _, method, url_of, kwargs_of, expected = case
        got = {}
        for role in ROLES:
            url = url_of(world).replace("{me}", str(world.user_ids[role]))
            if "{own_token}" in url:
                url = url.replace("{own_token}", str(fresh_token_of(world, role)))
            r = world.call(role, method, url, **kwargs_of(world))
            got[role] = r.status_code
            if r.status_code >= 400:
                err = error_of(r)
                assert err["code"] == {403: "forbidden", 404: "not_found"}[r.status_code]
        assert got == expected

    def test_operator_lists_only_their_groups(self, world: World) -> None:
        for role, seen in (("owner", set(world.group_ids)), ("operator", {world.mine})):
            groups = world.get(role, "/api/v1/groups").json()
            assert {g["id"] for g in groups["items"]} == seen and groups["total"] == len(seen)
            ov = world.get(role, "/api/v1/overview").json()
            assert {g["id"] for g in ov["scope"]["groups"]} == seen
            assert {g["id"] for g in ov["groups"]} == seen

    def test_operator_sees_members_only_through_their_groups(self, world: World) -> None:
        with world.engine.connect() as conn:
            rows = conn.execute(select(memberships.c.person_id, memberships.c.group_id)).all()
        mine = {p for p, g in rows if g == world.mine}
        everyone = {p for p, _ in rows}
        assert mine != everyone
        for role, expected in (("operator", mine), ("viewer", mine), ("admin", everyone)):
            page = world.get(role, "/api/v1/members", params={"limit": 500}).json()
            ids = {m["id"] for m in page["items"]}
            assert page["total"] == len(ids)
            # persons without an account other than bots are not listed
            assert ids <= expected and len(ids) >= len(expected) - 2, role

    def test_member_detail_shows_only_visible_memberships(self, world: World) -> None:
        with world.engine.connect() as conn:
            rows = conn.execute(select(memberships.c.person_id, memberships.c.group_id)).all()
        groups_of: dict[int, set[int]] = {}
        for pid, gid in rows:
            groups_of.setdefault(pid, set()).add(gid)
        both = [p for p, g in groups_of.items() if world.mine in g and len(g) > 1]
        assert len(both) == 1  # the one the world fixture made speak in two groups
        pid = both[0]
        full = world.get("admin", f"/api/v1/members/{pid}").json()
        cut = world.get("operator", f"/api/v1/members/{pid}").json()
        assert {m["group"]["id"] for m in full["memberships"]} == groups_of[pid]
        assert {m["group"]["id"] for m in cut["memberships"]} == {world.mine}
        events = world.get("operator", f"/api/v1/members/{pid}/events?limit=500").json()
        assert events["items"] and {e["group"]["id"] for e in events["items"]} == {world.mine}

    def test_missing_things_are_404_for_everyone(self, world: World) -> None:
        for url in (
            "/api/v1/groups/99999",
            "/api/v1/groups/99999/report",
            "/api/v1/groups/99999/keywords",
            "/api/v1/reports/monthly?group=99999&format=json",
            "/api/v1/members/99999",
            "/api/v1/members/99999/events",
            "/api/v1/users/99999",
            "/api/v1/imports/99999",
        ):
            r = world.get("owner", url)
            assert r.status_code == 404, url
            assert error_of(r)["code"] == "not_found"
        r = world.call("owner", "DELETE", "/api/v1/tokens/99999")
        assert r.status_code == 404

    def test_admin_cannot_make_itself_owner(self, world: World) -> None:
        r = world.call("admin", "PATCH", f"/api/v1/users/{world.user_ids['admin']}",
                       json={"role": "owner"})  # fmt: skip
        assert r.status_code == 403
        assert world.get("admin", "/api/v1/me").json()["role"] == "admin"

    def test_last_owner_cannot_be_removed_demoted_or_disabled(self, world: World) -> None:
        owner = world.user_ids["owner"]
        for method, body in (
            ("PATCH", {"role": "admin"}),
            ("PATCH", {"disabled": True}),
            ("DELETE", None),
        ):
            r = world.call("owner", method, f"/api/v1/users/{owner}", json=body)
            assert r.status_code == 409, (method, body)
            assert error_of(r)["code"] == "conflict"
        assert world.get("owner", "/api/v1/me").json()["role"] == "owner"
        # with a second owner, the first may step down
        second = world.post("owner", "/api/v1/users", json={"name": "owner2", "role": "owner"})
        assert second.status_code == 201
        r = world.call("owner", "PATCH", f"/api/v1/users/{owner}", json={"role": "admin"})
        assert r.status_code == 200 and r.json()["role"] == "admin"
        # and now owner2 is the last one
        r2 = world.call("admin", "DELETE", f"/api/v1/users/{second.json()['user']['id']}")
        assert r2.status_code == 403

    def test_nobody_deletes_their_own_account(self, world: World) -> None:
        world.post("owner", "/api/v1/users", json={"name": "owner2", "role": "owner"})
        r = world.call("owner", "DELETE", f"/api/v1/users/{world.user_ids['owner']}")
        assert r.status_code == 409
        assert "own account" in error_of(r)["message"]

    def test_user_create_validates(self, world: World) -> None:
        r = world.post("owner", "/api/v1/users", json={"name": "viewer", "role": "viewer"})
        assert r.status_code == 409
        r = world.post("owner", "/api/v1/users", json={"name": "a b/c", "role": "viewer"})
        assert r.status_code == 400 and error_of(r)["code"] == "bad_user_name"
        r = world.post("owner", "/api/v1/users", json={"name": "ok1", "role": "boss"})
        assert r.status_code == 422
        r = world.post(
            "owner", "/api/v1/users", json={"name": "ok2", "role": "viewer", "group_ids": [99999]}
        )
        assert r.status_code == 404
        r = world.post("owner", "/api/v1/users", json={"name": "ok3", "role": "viewer"})
        assert r.status_code == 201
        generated = r.json()["password"]
        assert isinstance(generated, str) and len(generated) >= 16
        assert world.login("ok3", generated).status_code == 200
        r = world.post(
            "owner",
            "/api/v1/users",
            json={"name": "ok4", "role": "viewer", "password": "chosen password"},
        )
        assert r.status_code == 201 and r.json()["password"] is None

    def test_new_scoped_user_sees_only_the_assigned_group(self, world: World) -> None:
        r = world.post(
            "admin",
            "/api/v1/users",
            json={"name": "newop", "role": "operator", "group_ids": [world.other]},
        )
        uid = r.json()["user"]["id"]
        assert r.json()["user"]["group_ids"] == [world.other]
        secret = world.post("admin", "/api/v1/tokens", json={"user": "newop"}).json()["secret"]
        h = {"Authorization": f"Bearer {secret}"}
        ids = [g["id"] for g in world.client.get("/api/v1/groups", headers=h).json()["items"]]
        assert ids == [world.other]
        world.call("admin", "PATCH", f"/api/v1/users/{uid}", json={"all_groups": True})
        ids = [g["id"] for g in world.client.get("/api/v1/groups", headers=h).json()["items"]]
        assert sorted(ids) == world.group_ids


class TestRolesSqlite(RolesContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestRolesPostgres(RolesContract):
    engine_name = "postgres"
