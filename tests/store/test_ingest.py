"""The ingester's contract, on every engine: idempotent, order-independent, consistent."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from qunyun.events import Event, JoinMethod, Kind
from qunyun.store.ingest import Ingester
from qunyun.store.queries import is_member
from qunyun.store.schema import events, groups, identities, identity_names, memberships, persons
from qunyun.testing.factories import at, group, join, leave, message, person
from tests.conftest import EngineContract

alice, bob, carol = person("1", name="Alice"), person("2", name="Bob"), person("3", name="Carol")


def write(engine: Engine, batch: list[Event], ingester: Ingester | None = None) -> tuple[int, int]:
    ing = ingester or Ingester(group_tz="Asia/Shanghai")
    with engine.begin() as conn:
        res = ing.write(conn, batch)
        ing.flush_name_times(conn)
    return res.new, res.duplicate


def membership_rows(engine: Engine) -> list[tuple[object, ...]]:
    m = memberships.c
    q = (
        select(
            identities.c.external_id,
            m.first_joined_at,
            m.last_joined_at,
            m.last_left_at,
            m.left_how,
            m.join_method,
            m.invited_by_id,
            m.channel_code,
            m.first_seen_at,
            m.last_seen_at,
            m.message_count,
            m.first_message_at,
        )
        .join(identities, identities.c.id == m.identity_id)
        .order_by(identities.c.external_id)
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


HISTORY = [
    join("j1", alice, 0, method=JoinMethod.INVITE_LINK, invite_link="https://t.me/+abc"),
    message("m1", alice, 1, "大家好 hello"),
    join("j2", bob, 2, by=alice, method=JoinMethod.INVITED_BY),
    message("m2", bob, 3, "hi alice"),
    message("m3", alice, 4, "welcome"),
    leave("l1", bob, 10),
    join("j3", bob, 20, by=carol, method=JoinMethod.INVITED_BY),
    leave("k1", carol, 30, by=alice),
    message("m4", person("2", name="Bobby"), 40, "renamed"),
]


class IngestContract(EngineContract):
    def test_events_round_trip(self, engine: Engine) -> None:
        assert write(engine, HISTORY) == (len(HISTORY), 0)
        with engine.connect() as conn:
            row = conn.execute(select(events).where(events.c.source_event_id == "m1")).one()
        assert row.kind == "message"
        assert row.ts == datetime(2024, 3, 1, 12, 1, tzinfo=UTC)
        assert row.payload == {"text": "大家好 hello", "type": "text"}

    def test_rewrite_adds_nothing(self, engine: Engine) -> None:
        write(engine, HISTORY)
        before = membership_rows(engine)
        assert write(engine, HISTORY) == (0, len(HISTORY))
        assert write(engine, HISTORY, Ingester()) == (0, len(HISTORY))
        assert membership_rows(engine) == before
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(events)).scalar() == len(HISTORY)

    def test_duplicate_inside_one_batch_counts_once(self, engine: Engine) -> None:
        assert write(engine, [HISTORY[1], HISTORY[1]]) == (1, 1)

    def test_one_person_per_new_identity(self, engine: Engine) -> None:
        write(engine, HISTORY)
        with engine.connect() as conn:
            n_ident = conn.execute(select(func.count()).select_from(identities)).scalar()
            n_person = conn.execute(select(func.count()).select_from(persons)).scalar()
            n_group = conn.execute(select(func.count()).select_from(groups)).scalar()
            tz = conn.execute(select(groups.c.tz)).scalar()
        assert (n_ident, n_person, n_group, tz) == (3, 3, 1, "Asia/Shanghai")

    def test_membership_state(self, engine: Engine) -> None:
        write(engine, HISTORY)
        rows = {r[0]: r for r in membership_rows(engine)}
        a, b, c = rows["1"], rows["2"], rows["3"]
        assert a[5] == "invite_link" and a[10] == 2  # method, messages
        assert b[5] == "invited_by" and b[10] == 2
        assert b[4] == "leave" and b[2] > b[3]  # rejoined after leaving
        assert c[4] == "kick" and c[2] is None  # seen only when inviting, then kicked
        # first messages: Alice at minute 1, Bob at 3 (not his join at 2), Carol none
        assert (a[11], b[11], c[11]) == (at(1), at(3), None)
        with engine.connect() as conn:
            current = (
                conn.execute(
                    select(identities.c.external_id)
                    .join(memberships, memberships.c.identity_id == identities.c.id)
                    .where(is_member())
                    .order_by(identities.c.external_id)
                )
                .scalars()
                .all()
            )
        assert current == ["1", "2"]

    def test_order_independent(self, engine: Engine) -> None:
        shuffled = HISTORY[:]
        random.Random(7).shuffle(shuffled)
        ing = Ingester(group_tz="Asia/Shanghai")
        for ev in shuffled:  # one event per batch, worst order
            write(engine, [ev], ing)
        got = membership_rows(engine)
        with engine.connect() as conn:
            name = conn.execute(
                select(identities.c.display_name).where(identities.c.external_id == "2")
            ).scalar()
            names = conn.execute(select(func.count()).select_from(identity_names)).scalar()
        assert name == "Bobby"  # the newest name wins whatever the arrival order
        assert names == 4  # Alice, Bob, Bobby, Carol
        # the same rows as writing the history in order, in one batch
        with engine.begin() as conn:
            for t in ("memberships", "identity_names", "events"):
                conn.exec_driver_sql(f"DELETE FROM {t}")
        write(engine, HISTORY)
        assert [r[1:] for r in membership_rows(engine)] == [r[1:] for r in got]

    def test_old_export_does_not_take_back_a_name(self, engine: Engine) -> None:
        write(engine, [message("n2", person("9", name="New Name"), 100)])
        write(engine, [message("n1", person("9", name="Old Name"), 1)])
        with engine.connect() as conn:
            name = conn.execute(select(identities.c.display_name)).scalar()
        assert name == "New Name"

    def test_first_message_is_the_earliest_whatever_the_order(self, engine: Engine) -> None:
        ing = Ingester(group_tz="Asia/Shanghai")
        write(engine, [message("late", alice, 50)], ing)
        write(engine, [join("j", alice, 10), leave("l", alice, 20)], ing)
        assert membership_rows(engine)[0][11] == at(50)
        write(engine, [message("early", alice, 5)], ing)  # an older export, imported later
        assert membership_rows(engine)[0][11] == at(5)
        write(engine, [message("later", alice, 60)], ing)
        assert membership_rows(engine)[0][11] == at(5)

    def test_member_kinds_only_touch_targets(self, engine: Engine) -> None:
        ev = Event("test", "x1", Kind.KICK, HISTORY[0].ts, group(), alice, bob, {"reason": "spam"})
        write(engine, [ev])
        rows = {r[0]: r for r in membership_rows(engine)}
        assert rows["2"][4] == "kick" and rows["1"][4] is None

    def test_a_ban_alone_is_not_an_exit(self, engine: Engine) -> None:
        """The kick that goes with a ban (IRC's kickban) is the exit, counted once."""
        t = HISTORY[0].ts
        ban = Event("test", "b1", Kind.BAN, t, group(), alice, bob, {"reason": "spam"})
        write(engine, [ban])
        rows = {r[0]: r for r in membership_rows(engine)}
        assert rows["2"][4] is None  # banned, still in the group
        kick = Event("test", "k1", Kind.KICK, t, group(), alice, bob, {})
        write(engine, [kick])
        rows = {r[0]: r for r in membership_rows(engine)}
        assert rows["2"][4] == "kick"


class TestIngestSqlite(IngestContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestIngestPostgres(IngestContract):
    engine_name = "postgres"
