"""Migrations produce exactly the declared schema, on every engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from qunyun.analytics import rollups
from qunyun.demo import generate
from qunyun.store.engine import alembic_config, migrate
from qunyun.store.ingest import Ingester
from qunyun.store.schema import group_daily, groups, memberships, metadata, questions
from tests.conftest import EngineContract


class MigrationContract(EngineContract):
    def test_migrated_schema_matches_declared(self, engine: Engine) -> None:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
        assert diff == []

    def test_every_table_and_unique_key_exists(self, engine: Engine) -> None:
        insp = inspect(engine)
        assert set(metadata.tables) <= set(insp.get_table_names())
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("events")}
        assert ("source_id", "source_event_id") in uniques

    def test_head_is_the_newest_migration(self, engine: Engine) -> None:
        from alembic.script import ScriptDirectory

        from qunyun.store.engine import HEAD

        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        assert head == HEAD
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD

    def test_migrate_twice_is_a_no_op(self, engine: Engine) -> None:
        migrate(engine)
        migrate(engine)

    def test_0005_finds_the_answers_the_rollups_keep(self, engine: Engine) -> None:
        """A store from before 0005 gets every question's first answer, as folding does."""
        plan = generate(groups=2, members=120, days=30, seed=11)
        fold, ing = rollups.Rollups(), Ingester(group_tz="Asia/Shanghai")
        with engine.begin() as conn:
            fold.on_written(conn, ing.write(conn, list(plan.events())))
        with engine.connect() as conn:
            folded = sorted(tuple(r) for r in conn.execute(select(questions)))
        assert sum(r[-1] is not None for r in folded) > 20
        cfg = alembic_config(engine)
        command.downgrade(cfg, "0004")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert sorted(tuple(r) for r in conn.execute(select(questions))) == folded

    def test_0007_finds_the_first_messages_the_ingester_keeps(self, engine: Engine) -> None:
        plan = generate(groups=2, members=120, days=30, seed=11)
        ing = Ingester(group_tz="Asia/Shanghai")
        with engine.begin() as conn:
            ing.write(conn, list(plan.events()))
        m = memberships.c
        q = select(m.group_id, m.identity_id, m.first_message_at).order_by(m.id)
        with engine.connect() as conn:
            kept = [tuple(r) for r in conn.execute(q)]
        assert sum(r[2] is not None for r in kept) > 30
        assert any(r[2] is None for r in kept)
        cfg = alembic_config(engine)
        command.downgrade(cfg, "0006")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(q)] == kept

    def test_0009_refolds_the_groups_whose_zone_is_not_whole_hours(self, engine: Engine) -> None:
        """Groups in India and across a New York DST change are refolded; groups whose
        zone stayed one whole-hour offset all through (Shanghai, New York in June)
        are left as they are — here marked, so a refold would show."""
        spans = {
            "Asia/Kolkata": (datetime(2024, 5, 1, tzinfo=UTC), 10),
            "America/New_York": (datetime(2024, 3, 1, tzinfo=UTC), 20),  # DST on 10 March
            "Asia/Shanghai": (datetime(2024, 3, 1, tzinfo=UTC), 20),
            "Europe/Paris": (datetime(2024, 6, 1, tzinfo=UTC), 20),
        }
        fold = rollups.Rollups()
        for tz, (start, days) in spans.items():
            plan = generate(
                groups=1, members=40, days=days, seed=3, end=start + timedelta(days=days)
            )
            evs = [
                replace(e, group=replace(e.group, external_id=tz), source_event_id=f"{tz}:{i}")
                for i, e in enumerate(plan.events())
            ]
            with engine.begin() as conn:
                fold.on_written(conn, Ingester(group_tz=tz).write(conn, evs))
        with engine.connect() as conn:
            zone_of = dict(conn.execute(select(groups.c.id, groups.c.tz)).all())
            folded = sorted(tuple(r) for r in conn.execute(select(group_daily)))
        assert len({r[0] for r in folded}) == 4
        with engine.begin() as conn:
            conn.execute(group_daily.update().values(messages=group_daily.c.messages + 1000))
        cfg = alembic_config(engine)
        command.downgrade(cfg, "0007")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            now = sorted(tuple(r) for r in conn.execute(select(group_daily)))
        refolded = {zone_of[r[0]] for r, was in zip(now, folded, strict=True) if r == was}
        marked = {
            zone_of[r[0]] for r, was in zip(now, folded, strict=True) if r[2] == was[2] + 1000
        }
        assert refolded == {"Asia/Kolkata", "America/New_York"}
        assert marked == {"Asia/Shanghai", "Europe/Paris"}

    def test_0008_adds_identity_links_and_the_name_index(self, engine: Engine) -> None:
        cfg = alembic_config(engine)
        command.downgrade(cfg, "0007")
        insp = inspect(engine)
        assert "identity_links" not in insp.get_table_names()
        assert "ix_identity_names_name" not in {
            i["name"] for i in insp.get_indexes("identity_names")
        }
        command.upgrade(cfg, "head")
        insp = inspect(engine)
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("identity_links")}
        assert ("group_id", "alias_id") in uniques
        assert "ix_identity_names_name" in {i["name"] for i in insp.get_indexes("identity_names")}


class TestMigrationsSqlite(MigrationContract):
    engine_name = "sqlite"

    def test_rollup_tables_are_clustered_by_key(self, engine: Engine) -> None:
        """Declared WITHOUT ROWID (which compare_metadata cannot see), also after 0006."""
        tables = [
            t.name for t in metadata.tables.values() if t.kwargs.get("sqlite_with_rowid") is False
        ]
        assert sorted(tables) == ["group_daily", "group_hourly", "join_daily", "member_daily"]
        with engine.connect() as conn:
            for name in tables:
                ddl = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (name,)
                ).scalar_one()
                assert ddl.rstrip().endswith("WITHOUT ROWID"), name


@pytest.mark.postgres
class TestMigrationsPostgres(MigrationContract):
    engine_name = "postgres"
