"""Text the store cannot hold (NUL, unpaired surrogates) is refused as invalid, not a 500.

PostgreSQL text columns refuse NUL characters, and no database takes a lone
surrogate; schemathesis found both as 500s on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.conftest import EngineContract
from tests.web.conftest import World, error_of


class InputsContract(EngineContract):
    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/audit?action=%00",
            "/api/v1/audit?user=a%00b",
            "/api/v1/members?q=%00",
            "/api/v1/members?platform=%00",
            "/api/v1/groups?q=x%00",
            "/api/v1/overview?month=%00",
            "/api/v1/members?%00=1",
        ],
    )
    def test_nul_in_the_query(self, world: World, url: str) -> None:
        r = world.get("owner", url)
        assert r.status_code == 422
        err = error_of(r)
        assert err["code"] == "invalid" and "NUL" in err["message"]

    @pytest.mark.parametrize(
        ("method", "url", "body"),
        [
            ("POST", "/api/v1/tokens", {"name": "\x00"}),
            ("POST", "/api/v1/auth/login", {"name": "owner\x00", "password": "x"}),
            ("POST", "/api/v1/users", {"name": "bad\x00name", "role": "viewer"}),
            ("PUT", "/api/v1/settings", {"tz": "UTC\x00"}),
            ("PUT", "/api/v1/me/password", {"new": "0123456789\x00", "old": "x"}),
        ],
    )
    def test_nul_in_a_body(self, world: World, method: str, url: str, body: dict[str, str]) -> None:
        r = world.call("owner", method, url, json=body)
        assert r.status_code == 422
        assert error_of(r)["code"] == "invalid"

    def test_lone_surrogate_in_a_body(self, world: World) -> None:
        raw = b'{"name": "tok\\ud800en"}'
        r = world.post(
            "owner", "/api/v1/tokens", content=raw, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422
        assert world.get("owner", "/api/v1/tokens").json()[0]["name"] == "tests"

    def test_nul_in_an_upload_form(self, world: World) -> None:
        r = world.post(
            "owner",
            "/api/v1/imports",
            files={"file": ("chat.txt", b"hello")},
            data={"group": "a\x00b"},
        )
        assert r.status_code == 422
        assert error_of(r)["code"] == "invalid"
        assert world.get("owner", "/api/v1/imports").json()["total"] == 0


class TestInputsSqlite(InputsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestInputsPostgres(InputsContract):
    engine_name = "postgres"
