"""Signing in: sessions and their cookie, CSRF, tokens, rate limits, languages, errors."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine, select

from qunyun.store.schema import api_tokens, audit_log, users
from qunyun.web.deps import SESSION_COOKIE
from tests.conftest import EngineContract
from tests.web.conftest import PASSWORD, World, error_of


def actions(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.user_name, audit_log.c.action, audit_log.c.target).order_by(
                audit_log.c.id
            )
        )
        return [(r.action, r.user_name, r.target) for r in rows]


class AuthContract(EngineContract):
    def test_health_needs_no_credentials(self, world: World) -> None:
        r = world.get(None, "/api/v1/health")
        assert r.status_code == 200 and r.json()["status"] == "ok"

    def test_no_credentials_is_401_on_every_other_route(self, world: World) -> None:
        for url in ("/api/v1/me", "/api/v1/overview", "/api/v1/members", "/api/v1/users"):
            r = world.get(None, url)
            assert r.status_code == 401, url
            assert error_of(r)["code"] == "unauthenticated"
            assert r.headers["www-authenticate"] == "Bearer"

    def test_a_wrong_token_or_scheme_is_401(self, world: World) -> None:
        for header in ("Bearer qy_nonsense", "Bearer " + world.secrets["owner"] + "x", "Basic abc"):
            r = world.client.get("/api/v1/me", headers={"Authorization": header})
            assert r.status_code == 401, header
            assert error_of(r)["code"] == "unauthenticated"

    def test_login_sets_an_http_only_session_cookie(self, world: World) -> None:
        r = world.login("operator")
        assert r.status_code == 200
        doc = r.json()
        assert doc["user"]["name"] == "operator" and doc["user"]["role"] == "operator"
        assert len(doc["csrf"]) >= 20
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
        assert "secure" not in cookie.lower()  # plain http in tests; https sets Secure
        me = world.client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["name"] == "operator"
        assert ("auth.login", "operator", "operator") in actions(world.engine)

    def test_login_names_are_case_insensitive(self, world: World) -> None:
        assert world.login("OPERATOR").status_code == 200

    def test_wrong_password_and_unknown_user_look_the_same(self, world: World) -> None:
        a = world.login("operator", "wrong password!")
        b = world.login("nobody-here", "wrong password!")
        assert a.status_code == b.status_code == 401
        assert error_of(a) == error_of(b)
        assert error_of(a)["code"] == "bad_credentials"
        assert "set-cookie" not in a.headers

    def test_session_write_needs_the_csrf_header(self, world: World) -> None:
        csrf = world.login("admin").json()["csrf"]
        body = {"tz": "Europe/Berlin"}
        r = world.client.put("/api/v1/settings", json=body)
        assert r.status_code == 403
        assert error_of(r)["code"] == "forbidden"
        r = world.client.put("/api/v1/settings", json=body, headers={"X-CSRF-Token": "wrong"})
        assert r.status_code == 403
        assert world.client.get("/api/v1/settings").json()["tz"] == "Asia/Shanghai"
        r = world.client.put("/api/v1/settings", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["tz"] == "Europe/Berlin"

    def test_bearer_write_needs_no_csrf(self, world: World) -> None:
        r = world.call("admin", "PUT", "/api/v1/settings", json={"tz": "Europe/Berlin"})
        assert r.status_code == 200 and r.json()["tz"] == "Europe/Berlin"

    def test_logout_ends_the_session(self, world: World) -> None:
        csrf = world.login("viewer").json()["csrf"]
        cookie = world.client.cookies[SESSION_COOKIE]
        assert world.client.post("/api/v1/auth/logout").status_code == 403  # CSRF
        r = world.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        assert SESSION_COOKIE not in world.client.cookies
        world.client.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, replayed
        assert world.client.get("/api/v1/me").status_code == 401
        assert ("auth.logout", "viewer", "viewer") in actions(world.engine)

    def test_sixth_failed_login_is_429_with_retry_after(self, world: World) -> None:
        for _ in range(5):
            assert world.login("viewer", "not the password").status_code == 401
        r = world.login("viewer", "not the password")
        assert r.status_code == 429
        assert error_of(r)["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 15 * 60 + 1
        # the right password does not get through either, until the window passes
        assert world.login("viewer").status_code == 429
        # the limit is per account: another user signs in
        assert world.login("operator").status_code == 200

    def test_a_good_login_clears_earlier_failures(self, world: World) -> None:
        for _ in range(4):
            world.login("viewer", "not the password")
        assert world.login("viewer").status_code == 200
        for _ in range(4):
            assert world.login("viewer", "not the password").status_code == 401
        assert world.login("viewer").status_code == 200

    def test_revoked_token_is_refused_at_once(self, world: World) -> None:
        r = world.post("operator", "/api/v1/tokens", json={"name": "script"})
        assert r.status_code == 201
        secret, tid = r.json()["secret"], r.json()["token"]["id"]
        headers = {"Authorization": f"Bearer {secret}"}
        assert world.client.get("/api/v1/me", headers=headers).status_code == 200
        r = world.client.delete(f"/api/v1/tokens/{tid}", headers=headers)
        assert r.status_code == 200 and r.json()["revoked"] is True
        r = world.client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401 and error_of(r)["code"] == "unauthenticated"
        # the operator's other token still works
        assert world.get("operator", "/api/v1/me").status_code == 200

    def test_disabled_user_token_and_session_are_refused(self, world: World) -> None:
        world.login("viewer")
        assert world.client.get("/api/v1/me").status_code == 200
        assert world.get("viewer", "/api/v1/me").status_code == 200
        r = world.call(
            "admin", "PATCH", f"/api/v1/users/{world.user_ids['viewer']}", json={"disabled": True}
        )
        assert r.status_code == 200 and r.json()["disabled"] is True
        assert world.get("viewer", "/api/v1/me").status_code == 401
        r = world.call(None, "GET", "/api/v1/me")  # the session cookie alone
        assert r.status_code == 401
        assert world.login("viewer").status_code == 401
        # enabled again: the token works again; the session is gone for good
        world.call(
            "admin", "PATCH", f"/api/v1/users/{world.user_ids['viewer']}", json={"disabled": False}
        )
        assert world.get("viewer", "/api/v1/me").status_code == 200
        world.client.cookies.clear()
        assert world.login("viewer").status_code == 200

    def test_passwords_are_argon2id_and_tokens_only_hashes(self, world: World) -> None:
        with world.engine.connect() as conn:
            hashes = conn.execute(select(users.c.password_hash)).scalars().all()
            stored = conn.execute(select(api_tokens)).mappings().all()
        assert len(hashes) == 4
        assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
        assert len(stored) == 4
        for role, secret in world.secrets.items():
            assert secret.startswith("qy_")
            digest = hashlib.sha256(secret.removeprefix("qy_").encode()).hexdigest()
            row = next(r for r in stored if r["secret_hash"] == digest)
            assert row["user_id"] == world.user_ids[role]
            values = " ".join(str(v) for r in stored for v in r.values())
            assert secret not in values and secret.removeprefix("qy_") not in values

    def test_token_listing_never_shows_secrets(self, world: World) -> None:
        r = world.get("owner", "/api/v1/tokens", params={"all": "true"})
        assert r.status_code == 200 and len(r.json()) == 4
        text = r.text
        assert not any(s.removeprefix("qy_") in text for s in world.secrets.values())
        assert all("secret" not in t and "secret_hash" not in t for t in r.json())

    def test_own_password_change_needs_the_old_one_and_ends_sessions(self, world: World) -> None:
        csrf = world.login("operator").json()["csrf"]
        h = {"X-CSRF-Token": csrf}
        r = world.client.put("/api/v1/me/password", json={"new": "a new password!"}, headers=h)
        assert r.status_code == 403
        r = world.client.put(
            "/api/v1/me/password", json={"new": "a new password!", "old": "wrong"}, headers=h
        )
        assert r.status_code == 403
        r = world.client.put(
            "/api/v1/me/password", json={"new": "a new password!", "old": PASSWORD}, headers=h
        )
        assert r.status_code == 204
        assert world.client.get("/api/v1/me").status_code == 401  # signed out everywhere
        assert world.login("operator").status_code == 401
        assert world.login("operator", "a new password!").status_code == 200
        assert ("user.password", "operator", "operator") in actions(world.engine)

    def test_short_password_is_refused(self, world: World) -> None:
        r = world.call("owner", "PUT", "/api/v1/me/password", json={"new": "short", "old": "x"})
        assert r.status_code == 422
        err = error_of(r)
        assert err["code"] == "invalid" and "new" in err["message"]

    def test_errors_are_chinese_for_zh_cn(self, world: World) -> None:
        zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
        cases = [
            world.get(None, "/api/v1/me", headers=zh),  # 401
            world.get("viewer", "/api/v1/users", headers=zh),  # 403
            world.get("viewer", f"/api/v1/groups/{world.other}", headers=zh),  # 404
            world.get("owner", "/api/v1/members", params={"limit": 0}, headers=zh),  # 422
            world.call("owner", "PUT", "/api/v1/settings", json={"tz": "Mars/Base"}, headers=zh),
            world.call("owner", "GET", "/api/v1/nothing-here", headers=zh),  # 404 from routing
            world.call("owner", "DELETE", "/api/v1/me", headers=zh),  # 405
        ]
        assert [r.status_code for r in cases] == [401, 403, 404, 422, 400, 404, 405]
        for r in cases:
            message = error_of(r)["message"]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
        en = world.get("viewer", "/api/v1/users", headers={"Accept-Language": "en-US"})
        assert error_of(en)["message"].startswith("this needs the admin role")

    def test_a_users_own_language_choice_wins(self, world: World) -> None:
        r = world.call("viewer", "PUT", "/api/v1/me/lang", json={"lang": "zh"})
        assert r.status_code == 200 and r.json()["lang"] == "zh"
        r = world.get("viewer", "/api/v1/users", headers={"Accept-Language": "en"})
        assert error_of(r)["message"].startswith("此操作需要")
        world.call("viewer", "PUT", "/api/v1/me/lang", json={"lang": None})
        r = world.get("viewer", "/api/v1/users", headers={"Accept-Language": "en"})
        assert error_of(r)["message"].startswith("this needs")


class TestAuthSqlite(AuthContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestAuthPostgres(AuthContract):
    engine_name = "postgres"
