"""The API keeps the promises of its OpenAPI document, for any input schemathesis can make.

Every operation is called with generated (valid and invalid) parameters and bodies
as the owner, on SQLite and PostgreSQL: no answer may be a 5xx, every status code
must be one the document declares for the operation, and every body must match
the declared schema (errors included: one ``{"error": {...}}`` shape).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from qunyun.accounts import tokens
from qunyun.accounts.roles import CLI
from qunyun.store.engine import make_engine
from qunyun.web.app import create_app
from qunyun.web.cache import MetricCache
from tests.conftest import EngineContract
from tests.web.conftest import World

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]

#: the document of an app over a throwaway engine: each test points the app at its own store
APP = create_app(make_engine("sqlite://"))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


class SchemaContract(EngineContract):
    @pytest.fixture
    def app(self, world: World) -> Iterator[FastAPI]:
        """The module's app over this test's store (fresh caches, as a new process has)."""
        APP.state.engine = world.engine
        APP.state.cache = MetricCache()
        APP.state.prefs_cache = None
        yield APP

    @schema.parametrize()
    @settings(
        max_examples=20,
        deadline=None,
        # the same examples every run, so a green CI stays green; QUNYUN_FUZZ=1 explores
        # new ones (that is how the last user-name and group-id bugs were found)
        derandomize=os.environ.get("QUNYUN_FUZZ") != "1",
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def test_api_conforms(self, case: Any, world: World, app: FastAPI) -> None:
        # A fresh owner token per example: generated calls may revoke tokens
        # (DELETE /tokens/{id}) and the next example must still get past sign-in.
        with world.engine.begin() as conn:
            _, secret = tokens.create(conn, CLI, "owner", "schemathesis")
        if case.path == "/api/v1/reports/monthly" and (case.query or {}).get("format") == "pdf":
            # PDF starts headless Chromium (a second or more per call): too slow for
            # dozens of generated calls; test_api_metrics covers the PDF once.
            case.query["format"] = "json"
        case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)


class TestSchemaSqlite(SchemaContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestSchemaPostgres(SchemaContract):
    engine_name = "postgres"
