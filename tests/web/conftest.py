"""An API over a small community, with one user (and one token) of every role.

``world`` builds on the ``engine`` fixture, so a test class that subclasses
``EngineContract`` gets it once on SQLite and once on PostgreSQL. The community
is a small ``qunyun demo`` (three groups, a month of chat) loaded through the
import service; the operator and the viewer see only the first group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from qunyun.accounts import passwords, tokens, users
from qunyun.accounts.roles import CLI
from qunyun.analytics import rollups
from qunyun.demo import generate
from qunyun.demo.source import DemoSource
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importing import run_import
from qunyun.store.ingest import Ingester
from qunyun.store.schema import events, groups, identities, memberships
from qunyun.web.app import create_app

SAMPLES = Path(__file__).parent.parent / "importers" / "samples"
ROLES = ("owner", "admin", "operator", "viewer")
PASSWORD = "correct horse battery"


def say(
    engine: Engine, group_id: int, identity_id: int, when: datetime, text: str, n: int = 0
) -> None:
    """One more message, written the way imports write (rollups folded alongside)."""
    with engine.connect() as conn:
        g = conn.execute(select(groups).where(groups.c.id == group_id)).one()
        i = conn.execute(select(identities).where(identities.c.id == identity_id)).one()
    event = Event(
        "tests",
        f"say-{group_id}-{identity_id}-{when.isoformat()}-{n}",
        Kind.MESSAGE,
        when,
        GroupRef(g.platform, g.external_id, g.title),
        IdentityRef(i.platform, i.external_id, i.display_name),
        None,
        {"text": text, "type": "text"},
    )
    with engine.begin() as conn:
        rollups.Rollups().on_written(conn, Ingester(group_tz=g.tz).write(conn, [event]))


def load_demo(engine: Engine, *, groups: int = 3, members: int = 40, days: int = 30) -> None:
    plan = generate(groups, members, days, seed=1)
    run_import(engine, Path("demo"), fmt=DemoSource(plan, "demo"), tz="Asia/Shanghai")


@dataclass
class World:
    """The app, its client, the demo's groups, and a user and token per role."""

    engine: Engine
    app: FastAPI
    client: TestClient
    group_ids: list[int]
    user_ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def mine(self) -> int:
        """The group the operator and the viewer may see."""
        return self.group_ids[0]

    @property
    def other(self) -> int:
        """A group they may not see."""
        return self.group_ids[1]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}

    def call(self, role: str | None, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if role is not None:
            headers.update(self.auth(role))
        return self.client.request(method, url, headers=headers, **kw)

    def get(self, role: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.call(role, "GET", url, **kw)

    def post(self, role: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.call(role, "POST", url, **kw)

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post("/api/v1/auth/login", json={"name": name, "password": password})


def make_user(
    engine: Engine, name: str, role: str, group_ids: list[int] | None = None
) -> tuple[int, str]:
    """A user created from the command line, and a fresh API token of theirs."""
    with engine.begin() as conn:
        user, _ = users.create(conn, CLI, name, role, password=PASSWORD, group_ids=group_ids)
        _, secret = tokens.create(conn, CLI, name, "tests")
    return user.id, secret


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the cheapest parameters: every test makes users and signs in.

    The production parameters are checked in tests/accounts/test_passwords.py.
    """
    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", quick)
    monkeypatch.setattr(passwords, "DUMMY_HASH", quick.hash("dummy"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """QUNYUN_HOME in the test's folder: uploads land there."""
    path = tmp_path / "home"
    monkeypatch.setenv("QUNYUN_HOME", str(path))
    return path


@pytest.fixture
def world(engine: Engine, home: Path) -> Iterator[World]:
    load_demo(engine)
    with engine.connect() as conn:
        gids = list(conn.execute(select(groups.c.id).order_by(groups.c.id)).scalars())
    assert len(gids) == 3
    # the demo's groups share nobody: make one member of the first group speak in the
    # second too, so scoping has a member seen through two groups to cut
    with engine.connect() as conn:
        ident = (
            conn.execute(
                select(memberships.c.identity_id)
                .where(memberships.c.group_id == gids[0])
                .order_by(memberships.c.identity_id)
            )
            .scalars()
            .first()
        )
        last = conn.execute(select(func.max(events.c.ts))).scalar_one()
    assert ident is not None
    say(engine, gids[1], ident, last, "我也在这个群")
    app = create_app(engine)
    with TestClient(app) as client:
        w = World(engine, app, client, gids)
        for role in ROLES:
            scoped = [w.mine] if role in ("operator", "viewer") else None
            w.user_ids[role], w.secrets[role] = make_user(engine, role, role, scoped)
        yield w


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error object of an API error response, after checking its shape."""
    doc = response.json()
    assert set(doc) == {"error"}, doc
    err = doc["error"]
    assert isinstance(err, dict)
    assert isinstance(err.get("code"), str) and err["code"]
    assert isinstance(err.get("message"), str) and err["message"]
    assert set(err) <= {"code", "message", "details"}
    return err
