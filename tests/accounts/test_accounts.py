"""The accounts layer without the web: roles, users, tokens, sessions, limits, prefs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update

from qunyun import clock
from qunyun.accounts import passwords, prefs, ratelimit, sessions, tokens, users
from qunyun.accounts.roles import CLI, Actor, Role, parse_role
from qunyun.errors import Conflict, NotFound, PermissionDenied, TooManyAttempts, UserError
from qunyun.store.schema import api_tokens, login_failures
from qunyun.store.schema import sessions as sessions_table
from tests.conftest import EngineContract

PW = "correct horse battery"


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id for tests that make users (production parameters: tested below)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "DUMMY_HASH", cheap.hash("dummy"))


# -- pure parts -----------------------------------------------------------------------


def test_roles_are_ordered() -> None:
    order = [Role.viewer, Role.operator, Role.admin, Role.owner]
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            assert a.at_least(b) is (i >= j)
    assert parse_role(" Admin ") is Role.admin
    with pytest.raises(UserError) as e:
        parse_role("root")
    assert e.value.code == "bad_role"


def test_actor_scoping() -> None:
    op = Actor(1, "op", Role.operator, all_groups=False, group_ids=frozenset({2, 3}))
    assert op.can_see(2) and not op.can_see(4)
    assert op.visible([1, 2, 3, 4]) == [2, 3]
    with pytest.raises(NotFound):
        op.require_group(4)
    op.require_group(3)
    with pytest.raises(PermissionDenied):
        op.require(Role.admin)
    op.require(Role.viewer)
    # admins see every group whatever their account says
    admin = Actor(2, "ad", Role.admin, all_groups=False)
    assert admin.sees_all_groups and admin.can_see(99)
    everyone = Actor(3, "v", Role.viewer, all_groups=True)
    assert everyone.can_see(99)
    with pytest.raises(UserError):
        _ = CLI.uid


def test_production_hashing_is_argon2id_with_strong_parameters() -> None:
    h = passwords.hash_password(PW)
    assert h.startswith("$argon2id$v=19$")
    params = dict(p.split("=") for p in h.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2  # RFC 9106 / OWASP floor
    assert passwords.verify(h, PW) and not passwords.verify(h, PW + "x")
    assert not passwords.verify("not a hash", PW)
    assert not passwords.needs_rehash(h)
    assert passwords.hash_password(PW) != h  # salted


def test_weak_passwords_and_generated_ones() -> None:
    with pytest.raises(UserError) as e:
        passwords.check_password("short")
    assert e.value.code == "weak_password"
    generated = {passwords.one_time_password() for _ in range(20)}
    assert len(generated) == 20
    assert all(len(p) >= passwords.MIN_LENGTH for p in generated)


# -- on the store ---------------------------------------------------------------------


class AccountsContract(EngineContract):
    @pytest.fixture
    def owner(self, engine: Engine, quick: None) -> Iterator[Actor]:
        with engine.begin() as conn:
            u, _ = users.create(conn, CLI, "boss", "owner", password=PW)
        yield u.actor(via="session")

    def test_ensure_owner_only_on_an_empty_store(self, engine: Engine, quick: None) -> None:
        with engine.begin() as conn:
            password = users.ensure_owner(conn)
            assert password is not None
            assert users.by_name(conn, "owner").role is Role.owner
            assert users.ensure_owner(conn, "second") is None
            assert users.count(conn) == 1
            assert users.authenticate(conn, "owner", password, None) is not None

    def test_admin_manages_only_lower_roles(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            adm, _ = users.create(conn, owner, "adm", Role.admin, password=PW)
            a = adm.actor(via="token")
            v, _ = users.create(conn, a, "vee", "viewer", password=PW)
            for role in ("admin", "owner"):
                with pytest.raises(PermissionDenied):
                    users.create(conn, a, f"x{role}", role, password=PW)
            with pytest.raises(PermissionDenied):
                users.change(conn, a, v.id, role="admin")
            with pytest.raises(PermissionDenied):
                users.change(conn, a, adm.id, disabled=True)
            with pytest.raises(PermissionDenied):
                users.remove(conn, a, users.by_name(conn, "boss").id)
            assert users.change(conn, a, v.id, role="operator").role is Role.operator
            with pytest.raises(PermissionDenied):
                users.create(conn, v.actor(via="token"), "nope", "viewer", password=PW)

    def test_names_are_unique_without_case(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            users.create(conn, owner, "Alice", "viewer", password=PW)
            with pytest.raises(Conflict):
                users.create(conn, owner, "alice", "viewer", password=PW)
            with pytest.raises(UserError):
                users.create(conn, owner, "a", "viewer", password=PW)
            with pytest.raises(UserError):
                users.create(conn, owner, "bob", "viewer", password="short")
            with pytest.raises(NotFound):
                users.create(conn, owner, "carol", "viewer", password=PW, group_ids=[404])
            assert users.by_name(conn, "ALICE").name == "Alice"

    def test_last_owner_rules(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            me = owner.uid
            for kw in ({"role": "admin"}, {"disabled": True}):
                with pytest.raises(Conflict):
                    users.change(conn, owner, me, **kw)  # type: ignore[arg-type]
            with pytest.raises(Conflict):
                users.remove(conn, CLI, me)
            two, _ = users.create(conn, owner, "boss2", "owner", password=PW)
            # a disabled owner does not count as a second one
            users.change(conn, owner, two.id, disabled=True)
            with pytest.raises(Conflict):
                users.change(conn, owner, me, role="viewer")
            users.change(conn, owner, two.id, disabled=False)
            assert users.change(conn, owner, me, role="admin").role is Role.admin

    def test_authenticate_counts_failures_and_limits(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            for _ in range(ratelimit.LIMITS["user"]):
                assert users.authenticate(conn, "boss", "wrong", "10.0.0.1") is None
            with pytest.raises(TooManyAttempts) as e:
                users.authenticate(conn, "BOSS", PW, "10.0.0.2")
            assert 1 <= e.value.retry_after <= ratelimit.WINDOW.total_seconds() + 1
            # once the window has passed, failures no longer count
            old = clock.now() - ratelimit.WINDOW - timedelta(seconds=1)
            conn.execute(update(login_failures).values(at=old))
            assert users.authenticate(conn, "boss", PW, "10.0.0.2") is not None
            n = conn.execute(
                select(login_failures.c.id).where(login_failures.c.key == "user:boss")
            ).all()
            assert n == []  # a good sign-in clears the account's failures

    def test_per_address_limit_covers_many_names(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            for i in range(ratelimit.LIMITS["ip"]):
                assert users.authenticate(conn, f"guess{i}", "pw", "10.9.9.9") is None
            with pytest.raises(TooManyAttempts):
                users.authenticate(conn, "boss", PW, "10.9.9.9")
            assert users.authenticate(conn, "boss", PW, "10.9.9.10") is not None

    def test_disabled_user_cannot_sign_in(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            v, _ = users.create(conn, owner, "vee", "viewer", password=PW)
            users.change(conn, owner, v.id, disabled=True)
            assert users.authenticate(conn, "vee", PW, None) is None

    def test_sessions_end_on_logout_password_change_and_disable(
        self, engine: Engine, owner: Actor
    ) -> None:
        with engine.begin() as conn:
            v, _ = users.create(conn, owner, "vee", "viewer", password=PW)
            s1, sess = sessions.start(conn, v.id)
            s2, _ = sessions.start(conn, v.id)
            assert sessions.find(conn, s1) == sess and sessions.find(conn, s2) is not None
            sessions.end(conn, s1)
            assert sessions.find(conn, s1) is None and sessions.find(conn, s2) is not None
            users.set_password(conn, owner, v.id, "a brand new password")
            assert sessions.find(conn, s2) is None
            s3, _ = sessions.start(conn, v.id)
            users.change(conn, owner, v.id, disabled=True)
            assert sessions.find(conn, s3) is None
            # secrets are stored hashed, and expired sessions are not found
            users.change(conn, owner, v.id, disabled=False)
            s4, _ = sessions.start(conn, v.id)
            stored = conn.execute(select(sessions_table.c.secret_hash)).scalars().all()
            assert s4 not in stored and tokens.digest(s4) in stored
            conn.execute(update(sessions_table).values(expires_at=clock.now()))
            assert sessions.find(conn, s4) is None

    def test_tokens(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            v, _ = users.create(conn, owner, "vee", "viewer", password=PW)
            va = v.actor(via="token")
            row, secret = tokens.create(conn, va, None, "  ")
            assert row["name"] == "token" and row["user"] == "vee"
            assert secret.startswith(tokens.PREFIX) and len(secret) > 40
            assert tokens.user_for(conn, secret) == v.id
            assert tokens.user_for(conn, secret[len(tokens.PREFIX) :]) is None
            assert tokens.user_for(conn, secret + "x") is None
            hashes = conn.execute(select(api_tokens.c.secret_hash)).scalars().all()
            assert hashes == [tokens.digest(secret[len(tokens.PREFIX) :])]
            # use is noted (at most once a minute)
            assert tokens.listing(conn, va)[0]["last_used_at"] is not None
            with pytest.raises(PermissionDenied):
                tokens.create(conn, va, "boss", "steal")
            with pytest.raises(PermissionDenied):
                tokens.listing(conn, va, everyone=True)
            with pytest.raises(UserError):
                tokens.create(conn, va, None, "x" * 129)
            with pytest.raises(UserError):
                tokens.create(conn, CLI, None, "no user")
            other, _ = tokens.create(conn, owner, None, "boss's")
            with pytest.raises(NotFound):
                tokens.revoke(conn, va, other["id"])
            out = tokens.revoke(conn, va, row["id"])
            assert out["revoked"] and out["revoked_at"]
            assert tokens.user_for(conn, secret) is None
            again = tokens.revoke(conn, va, row["id"])  # idempotent
            assert again["revoked_at"] == out["revoked_at"]
            assert len(tokens.listing(conn, owner, everyone=True)) == 2
            assert [t["name"] for t in tokens.listing(conn, owner)] == ["boss's"]

    def test_prefs(self, engine: Engine, owner: Actor) -> None:
        with engine.begin() as conn:
            assert prefs.read(conn) == prefs.DEFAULTS
            assert prefs.write(conn, owner, tz="Europe/Paris", lang=None)["tz"] == "Europe/Paris"
            with pytest.raises(UserError):
                prefs.write(conn, owner, lang="fr")
            with pytest.raises(UserError):
                prefs.write(conn, owner, colour="blue")
            with pytest.raises(PermissionDenied):
                prefs.write(conn, Actor(9, "v", Role.viewer), tz="UTC")
            assert prefs.read(conn) == {"tz": "Europe/Paris", "lang": "auto"}


class TestAccountsSqlite(AccountsContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestAccountsPostgres(AccountsContract):
    engine_name = "postgres"
