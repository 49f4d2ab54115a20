"""Migrations produce exactly the declared schema, on every engine."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from qunyun.store.engine import migrate
from qunyun.store.schema import metadata
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

    def test_migrate_twice_is_a_no_op(self, engine: Engine) -> None:
        migrate(engine)
        migrate(engine)


class TestMigrationsSqlite(MigrationContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestMigrationsPostgres(MigrationContract):
    engine_name = "postgres"
