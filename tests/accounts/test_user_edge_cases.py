"""Regressions schemathesis found: repeated group ids, non-ASCII names (both engines)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from qunyun.accounts import users
from qunyun.accounts.roles import CLI
from qunyun.errors import Conflict
from qunyun.store.ingest import Ingester
from tests.conftest import EngineContract


def _one_group(engine: Engine) -> int:
    from datetime import UTC, datetime

    from qunyun.events import Event, GroupRef, IdentityRef, Kind

    ev = Event(
        source="test",
        source_event_id="1",
        kind=Kind.MESSAGE,
        ts=datetime(2025, 1, 1, tzinfo=UTC),
        group=GroupRef("telegram", "-1001", "G"),
        actor=IdentityRef("telegram", "42", "Ann"),
        payload={"text": "hi"},
    )
    with engine.begin() as conn:
        Ingester().write(conn, [ev])
    with engine.connect() as conn:
        from sqlalchemy import select

        from qunyun.store.schema import groups

        return int(conn.execute(select(groups.c.id)).scalar_one())


class UserEdgeContract(EngineContract):
    def test_repeated_group_ids_are_one_assignment(self, engine: Engine) -> None:
        gid = _one_group(engine)
        with engine.begin() as c:
            u, _ = users.create(c, CLI, "op", "operator", group_ids=[gid, gid])
            assert u.group_ids == (gid,)
            assert users.change(c, CLI, u.id, group_ids=[gid, gid, gid]).group_ids == (gid,)

    def test_non_ascii_name_is_found_and_cannot_be_taken_twice(self, engine: Engine) -> None:
        with engine.begin() as c:
            users.create(c, CLI, "ßÕn", "admin", password="long enough pw")
        with engine.begin() as c, pytest.raises(Conflict):
            users.create(c, CLI, "ßÕn", "admin")
        with engine.connect() as c:
            assert users.by_name(c, "ßÕn").name == "ßÕn"
        with engine.begin() as c:
            assert users.authenticate(c, "ßÕn", "long enough pw", None) is not None


class TestUserEdgeSqlite(UserEdgeContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestUserEdgePostgres(UserEdgeContract):
    engine_name = "postgres"
