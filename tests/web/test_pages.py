"""Dashboard pages over HTTP (no browser): sign-in, CSRF, redirects, scoping, language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from qunyun.accounts import audit, users
from qunyun.accounts.roles import CLI
from qunyun.importing import run_import
from qunyun.web.app import create_app

SAMPLES = Path(__file__).parents[1] / "importers" / "samples"
PASSWORD = "correct horse battery"


@pytest.fixture
def app_engine(sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("QUNYUN_HOME", str(tmp_path / "home"))
    run_import(sqlite_engine, SAMPLES / "telegram" / "ChatExport_2024-01-03", tz="UTC")
    run_import(
        sqlite_engine,
        SAMPLES / "whatsapp" / "WhatsApp Chat with Hiking Club.txt",
        tz="Europe/London",
    )
    with sqlite_engine.begin() as c:
        users.create(c, CLI, "boss", "owner", password=PASSWORD, all_groups=True)
        users.create(c, CLI, "op", "operator", password=PASSWORD, group_ids=[1])
    return sqlite_engine


@pytest.fixture
def client(app_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(app_engine)) as c:
        yield c


def login(client: TestClient, name: str, password: str = PASSWORD, next: str = "/") -> str:
    page = client.get("/login").text
    token = re.search(r'name="login_csrf" value="([^"]+)"', page)
    assert token
    r = client.post(
        "/login",
        data={"name": name, "password": password, "next": next, "login_csrf": token.group(1)},
        follow_redirects=False,
    )
    return r.headers.get("location", "") if r.status_code == 303 else f"status {r.status_code}"


def csrf_of(client: TestClient) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', client.get("/settings").text)
    assert m
    return m.group(1)


def test_pages_need_a_session(client: TestClient) -> None:
    r = client.get("/groups?month=2024-01", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fgroups%3Fmonth%3D2024-01"


def test_login_redirects_only_within_the_site(client: TestClient) -> None:
    assert login(client, "boss", next="//evil.example/x") == "/"
    client.cookies.clear()
    assert login(client, "boss", next="https://evil.example/") == "/"
    client.cookies.clear()
    assert login(client, "boss", next="/members?q=a") == "/members?q=a"


def test_wrong_password_and_forged_login_form(client: TestClient) -> None:
    assert login(client, "boss", "not the password") == "status 401"
    r = client.post(
        "/login",
        data={"name": "boss", "password": PASSWORD, "next": "/", "login_csrf": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 401
    assert "qunyun_session" not in r.cookies


def test_every_page_renders_for_the_owner(client: TestClient) -> None:
    login(client, "boss")
    for path in (
        "/",
        "/groups",
        "/groups/1",
        "/groups/2",
        "/groups/1/keywords",
        "/members",
        "/members/1",
        "/imports",
        "/reports",
        "/settings",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "text/html" in r.headers["content-type"]
    assert client.get("/groups/999").status_code == 404


def test_security_headers(client: TestClient) -> None:
    r = client.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["server-timing"].startswith("app;dur=")


def test_forms_refuse_a_missing_or_wrong_csrf_token(client: TestClient, app_engine: Engine) -> None:
    login(client, "boss")
    r = client.post("/settings/users", data={"name": "mallory", "role": "admin", "csrf": "x"})
    assert r.status_code == 400
    with app_engine.connect() as c:
        assert "mallory" not in [u.name for u in users.all_users(c)]
    r = client.post(
        "/settings/users",
        data={"name": "carol", "role": "viewer", "group_ids": "1，2", "csrf": csrf_of(client)},
    )
    assert r.status_code == 200
    shown = re.search(r'data-testid="new-password">([^<]+)<', r.text)
    assert shown  # the generated password, shown once
    with app_engine.connect() as c:
        carol = users.by_name(c, "carol")
        assert carol.group_ids == (1, 2)
        assert audit.entries(c, user="boss")[0][0]["action"] == "user.create"
    client.cookies.clear()
    assert login(client, "carol", shown.group(1)) == "/"


def test_operator_sees_only_their_groups(client: TestClient) -> None:
    login(client, "op")
    assert client.get("/groups/1").status_code == 200
    assert client.get("/groups/2").status_code == 404
    assert client.get("/groups/2/keywords").status_code == 404
    listing = client.get("/groups").text
    assert 'href="/groups/1' in listing and 'href="/groups/2' not in listing
    # operators cannot manage users, and their settings page has no user list
    r = client.post(
        "/settings/users", data={"name": "eve", "role": "viewer", "csrf": csrf_of(client)}
    )
    assert r.status_code == 403


def test_language_from_browser_then_switch(client: TestClient) -> None:
    login(client, "boss")
    assert "社群总览" in client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert "Community overview" in client.get("/", headers={"accept-language": "en-US"}).text
    r = client.get("/lang/zh?next=//evil.example", follow_redirects=False)
    assert r.headers["location"] == "/"
    client.cookies.set("qunyun_lang", "zh")
    assert "社群总览" in client.get("/", headers={"accept-language": "en-US"}).text


def test_empty_store_offers_next_steps(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as c:
        users.create(c, CLI, "boss", "owner", password=PASSWORD, all_groups=True)
    with TestClient(create_app(sqlite_engine)) as client:
        login(client, "boss")
        page = client.get("/", headers={"accept-language": "en"}).text
        assert "No data yet" in page
        assert 'action="/demo"' in page and 'href="/imports"' in page


def test_report_download(client: TestClient) -> None:
    login(client, "boss")
    r = client.get("/reports/download?group=1&format=html&lang=en&month=2024-01")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "Community report" in r.text
    assert client.get("/reports/download?group=abc").status_code == 400


def test_member_timeline_tells_what_they_did_from_what_was_done_to_them(
    client: TestClient, app_engine: Engine
) -> None:
    from sqlalchemy import select

    from qunyun.store.schema import identities

    with app_engine.connect() as c:
        alice = c.execute(
            select(identities.c.person_id).where(identities.c.external_id == "111111111")
        ).scalar_one()
    login(client, "boss")
    page = client.get(f"/members/{alice}", headers={"accept-language": "en"}).text
    # in the sample Alice removes someone from the group; she herself stays
    assert "removed a member" in page
    assert ">removed<" not in page


def test_text_a_database_cannot_hold_is_refused_with_a_page(client: TestClient) -> None:
    login(client, "boss")
    r = client.get("/members?q=a%00b")
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    r = client.post("/settings/tokens", data={"name": "x\x00y", "csrf": csrf_of(client)})
    assert r.status_code == 400


def test_first_start_owner_is_asked_to_set_their_own_password(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as c:
        one_time = users.ensure_owner(c)
    assert one_time
    with TestClient(create_app(sqlite_engine)) as client:
        login(client, "owner", one_time)
        assert 'data-testid="one-time-notice"' in client.get("/").text
        r = client.post(
            "/settings/password",
            data={"old": one_time, "new": PASSWORD, "csrf": csrf_of(client)},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/login"
        client.cookies.clear()
        assert login(client, "owner", one_time) == "status 401"
        login(client, "owner", PASSWORD)
        assert 'data-testid="one-time-notice"' not in client.get("/").text


def test_background_warm_up_computes_the_overviews_people_open(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qunyun.analytics import overview
    from qunyun.web.api import metrics

    calls: list[tuple[int, ...]] = []
    real = overview.build

    def counting(conn, scope):  # type: ignore[no-untyped-def]
        calls.append(tuple(scope.group_ids))
        return real(conn, scope)

    monkeypatch.setattr(overview, "build", counting)
    metrics.warm_overview(client.app)
    # every group (the owner) and the operator's group set: last 30 days + 12 months
    assert calls.count((1, 2)) == 13 and calls.count((1,)) == 13
    login(client, "op")
    before = len(calls)
    assert client.get("/?month=2024-01").status_code == 200
    assert client.get("/").status_code == 200
    assert len(calls) == before  # served from the warm cache
    metrics.warm_overview(client.app)
    assert len(calls) == before  # nothing changed: nothing recomputed
