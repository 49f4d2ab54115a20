"""``qunyun stats``: members, authors, bots and messages worked out by hand, on SQLite
and PostgreSQL. A member who only ever joined is a member, not an author."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from qunyun.analytics import rollups
from qunyun.analytics.stats import basic_stats
from qunyun.cli import app
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.store.engine import make_engine, migrate
from qunyun.store.ingest import Ingester
from tests.conftest import EngineContract

A = GroupRef("irc", "#a", "#a")
B = GroupRef("irc", "#b", "#b")
LURKER, TALKER, SPEAKER, LEAVER, KICKED, REJOINER, OTHER = (
    IdentityRef("irc", n, n) for n in ("lurker", "talker", "speaker", "leaver", "kicked", "re", "q")
)
BOT = IdentityRef("irc", "ubottu", "ubottu", is_bot=True)


def at(month: int, day: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, 12, minute, tzinfo=UTC)


def ev(
    n: int,
    kind: Kind,
    ts: datetime,
    group: GroupRef,
    actor: IdentityRef,
    target: IdentityRef | None = None,
) -> Event:
    payload: dict[str, object] = {"text": "hi", "type": "text"} if kind is Kind.MESSAGE else {}
    if kind is Kind.JOIN:
        payload = {"method": "unknown"}
    return Event("irc", f"e{n}", kind, ts, group, actor, target, payload)


M, J, L = Kind.MESSAGE, Kind.JOIN, Kind.LEAVE
HISTORY = [
    ev(1, J, at(1, 2), A, LURKER, LURKER),  # joins, never speaks: member, not author
    ev(2, J, at(1, 2, 1), A, TALKER, TALKER),
    ev(3, M, at(1, 2, 2), A, TALKER),
    ev(4, M, at(2, 3), A, TALKER),
    ev(5, M, at(1, 5), A, SPEAKER),  # speaks, no join in the history: member and author
    ev(6, J, at(1, 6), A, LEAVER, LEAVER),
    ev(7, M, at(1, 6, 1), A, LEAVER),
    ev(8, L, at(1, 7), A, LEAVER, LEAVER),  # left: not a member now, still an author
    ev(9, J, at(1, 8), A, KICKED, KICKED),
    ev(10, Kind.BAN, at(2, 8), A, TALKER, KICKED),  # a ban is not an exit…
    ev(11, Kind.KICK, at(2, 8, 1), A, TALKER, KICKED),  # …its kick is
    ev(12, J, at(1, 9), A, REJOINER, REJOINER),
    ev(13, L, at(1, 10), A, REJOINER, REJOINER),
    ev(14, J, at(2, 10), A, REJOINER, REJOINER),  # came back: a member again
    ev(15, M, at(2, 11), A, BOT),  # bots: a message, never a member or an author
    ev(16, J, at(2, 12), B, LURKER, LURKER),  # the same lurker in a second group
    ev(17, M, at(2, 12, 1), B, OTHER),
]


def load(engine: Engine) -> None:
    fold = rollups.Rollups()
    with engine.begin() as conn:
        fold.on_written(conn, Ingester(group_tz="UTC").write(conn, HISTORY))


class StatsContract(EngineContract):
    def test_members_authors_bots_by_hand(self, engine: Engine) -> None:
        load(engine)
        with engine.connect() as conn:
            doc = basic_stats(conn)
        a, b = doc["groups"]
        counts = ("members", "members_ever", "authors", "bots", "messages", "bot_messages")
        assert {k: a[k] for k in counts} == {
            "members": 4,  # lurker, talker, speaker, re
            "members_ever": 6,  # + leaver, kicked
            "authors": 3,  # talker, speaker, leaver
            "bots": 1,
            "messages": 5,
            "bot_messages": 1,
        }
        assert {k: b[k] for k in counts} == {
            "members": 2,
            "members_ever": 2,
            "authors": 1,
            "bots": 0,
            "messages": 1,
            "bot_messages": 0,
        }
        assert doc["totals"] == {
            "groups": 2,
            "members": 6,
            "members_ever": 8,
            "authors": 4,
            "bots": 1,
            "messages": 6,
            "bot_messages": 1,
            "people": 5,  # the lurker counted once across both groups
            "joins": 7,
            "leaves": 3,  # leave, kick, leave: not the ban
        }
        assert doc["months"] == [
            {"month": "2024-01", "messages": 3, "joins": 5, "leaves": 2},
            {"month": "2024-02", "messages": 3, "joins": 2, "leaves": 1},
        ]

    def test_one_group_and_reimport(self, engine: Engine) -> None:
        load(engine)
        with engine.begin() as conn:
            again = Ingester(group_tz="UTC").write(conn, HISTORY)
        assert again.new == 0
        with engine.connect() as conn:
            doc = basic_stats(conn, "#b")
        assert [g["external_id"] for g in doc["groups"]] == ["#b"]
        assert (doc["totals"]["members"], doc["totals"]["authors"]) == (2, 1)


class TestStatsSqlite(StatsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestStatsPostgres(StatsContract):
    engine_name = "postgres"


def test_cli_stats_json_has_every_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    load(engine)
    with engine.connect() as conn:
        expected = basic_stats(conn)
    engine.dispose()
    res = CliRunner().invoke(app, ["stats", "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == expected
    text = CliRunner().invoke(app, ["stats", "--db", url])
    assert "4 authors" in text.stdout and "1 by bots" in text.stdout
