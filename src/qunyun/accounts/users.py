"""Users: create, change, remove, authenticate — each change audited in its transaction.

The rules a demanding team expects: only an owner makes or changes owners and
admins; the last owner cannot be removed, demoted or disabled (the store would
have nobody able to manage it); a password change signs the user out everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, insert, or_, select, update

from qunyun import clock
from qunyun.accounts import audit, passwords, prefs, ratelimit
from qunyun.accounts.roles import Actor, Role, parse_role
from qunyun.errors import Conflict, NotFound, PermissionDenied, UserError
from qunyun.store.queries import find_groups
from qunyun.store.schema import api_tokens, groups, sessions, user_groups, users

_NAME = re.compile(r"^[\w.@+-]{2,64}$")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    all_groups: bool
    lang: str | None
    disabled: bool
    created_at: str
    group_ids: tuple[int, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "all_groups": self.all_groups or self.role.at_least(Role.admin),
            "group_ids": list(self.group_ids),
            "lang": self.lang,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }

    def actor(self, *, via: str, ip: str | None = None) -> Actor:
        return Actor(
            user_id=self.id,
            name=self.name,
            role=self.role,
            all_groups=self.all_groups,
            group_ids=frozenset(self.group_ids),
            ip=ip,
            via=via,
        )


def _user(conn: Connection, row: Any, *, only_scoped_groups: bool = False) -> User:
    """``only_scoped_groups``: read the group list only when it limits what the user
    sees (not for owners, admins or all-groups users), for the per-request lookup."""
    sees_all = bool(row.all_groups) or Role(row.role).at_least(Role.admin)
    gids: tuple[int, ...] = ()
    if not (only_scoped_groups and sees_all):
        gids = tuple(
            conn.execute(
                select(user_groups.c.group_id)
                .where(user_groups.c.user_id == row.id)
                .order_by(user_groups.c.group_id)
            ).scalars()
        )
    return User(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        all_groups=bool(row.all_groups),
        lang=row.lang,
        disabled=bool(row.disabled),
        created_at=row.created_at.isoformat(),
        group_ids=gids,
    )


def _named(name: str) -> ColumnElement[bool]:
    """A user name match, ignoring case.

    The exact name too: SQLite's lower() folds only ASCII, so "ßÕn" would otherwise
    never match itself lowered by Python ("ßõn").
    """
    return or_(users.c.name == name, func.lower(users.c.name) == name.lower())


def _distinct(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def get(conn: Connection, user_id: int) -> User:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id}", zh=f"没有用户 {user_id}")
    return _user(conn, row)


def acting(conn: Connection, row: Any) -> User:
    """The user of a ``users`` row found while authenticating a request (see _user)."""
    return _user(conn, row, only_scoped_groups=True)


def by_name(conn: Connection, name: str) -> User:
    row = conn.execute(select(users).where(_named(name))).first()
    if row is None:
        raise NotFound(f"no user named {name!r}", zh=f"没有名为 {name!r} 的用户")
    return _user(conn, row)


def all_users(conn: Connection) -> list[User]:
    return [_user(conn, r) for r in conn.execute(select(users).order_by(users.c.id))]


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def resolve_groups(conn: Connection, specs: list[str]) -> list[int]:
    """Group ids from CLI/API specs (row id, platform id or title); each must match."""
    out: list[int] = []
    for spec in specs:
        rows = find_groups(conn, spec.strip())
        out.extend(r.id for r in rows if r.id not in out)
    return out


def _check_manage(actor: Actor, role: Role) -> None:
    actor.require(Role.admin)
    if role.at_least(Role.admin) and actor.role is not Role.owner:
        raise PermissionDenied(
            "only an owner can create or change admins and owners",
            zh="只有所有者可以创建或修改管理员和所有者",
        )


def _check_groups(conn: Connection, group_ids: list[int]) -> None:
    if not group_ids:
        return
    found = set(conn.execute(select(groups.c.id).where(groups.c.id.in_(group_ids))).scalars())
    missing = [g for g in group_ids if g not in found]
    if missing:
        raise NotFound(f"no group {missing[0]}", zh=f"没有群 {missing[0]}")


def check_new_user(conn: Connection, actor: Actor, name: str, role: Role) -> None:
    _check_manage(actor, role)
    if not _NAME.match(name):
        raise UserError(
            f"user name {name!r}: use 2–64 letters, digits or . _ - @ +",
            zh=f"用户名 {name!r} 无效：请用 2–64 个字母、数字或 . _ - @ +",
            code="bad_user_name",
        )
    exists = conn.execute(select(users.c.id).where(_named(name)))
    if exists.first() is not None:
        raise Conflict(f"a user named {name!r} already exists", zh=f"用户 {name!r} 已存在")


def create(
    conn: Connection,
    actor: Actor,
    name: str,
    role: Role | str,
    *,
    password: str | None = None,
    group_ids: list[int] | None = None,
    all_groups: bool = False,
    lang: str | None = None,
) -> tuple[User, str | None]:
    """Create a user; returns the user and the generated password when none was given."""
    role = parse_role(role) if isinstance(role, str) else role
    name = name.strip()
    check_new_user(conn, actor, name, role)
    generated = None
    if password is None:
        password = generated = passwords.one_time_password()
    passwords.check_password(password)
    group_ids = _distinct(group_ids or [])
    _check_groups(conn, group_ids)
    now = clock.now()
    uid = conn.execute(
        insert(users)
        .values(
            name=name,
            password_hash=passwords.hash_password(password),
            role=role.value,
            all_groups=all_groups,
            lang=lang,
            disabled=False,
            created_at=now,
            password_changed_at=now,
        )
        .returning(users.c.id)
    ).scalar_one()
    if group_ids:
        conn.execute(insert(user_groups), [{"user_id": uid, "group_id": g} for g in group_ids])
    audit.record(
        conn,
        actor,
        "user.create",
        name,
        {"role": role.value, "all_groups": all_groups, "group_ids": group_ids or []},
    )
    return get(conn, uid), generated


def _owners(conn: Connection) -> int:
    q = select(func.count()).where(users.c.role == Role.owner.value, users.c.disabled.is_(False))
    return int(conn.execute(q).scalar_one())


def _guard_last_owner(conn: Connection, target: User, *, demote: bool) -> None:
    if target.role is Role.owner and demote and _owners(conn) <= 1:
        raise Conflict(
            "this is the last owner: make another owner first",
            zh="这是最后一个所有者：请先设置另一个所有者",
        )


def change(
    conn: Connection,
    actor: Actor,
    user_id: int,
    *,
    role: Role | str | None = None,
    group_ids: list[int] | None = None,
    all_groups: bool | None = None,
    disabled: bool | None = None,
) -> User:
    target = get(conn, user_id)
    new_role = parse_role(role) if isinstance(role, str) else role
    _check_manage(actor, target.role)
    if new_role is not None:
        _check_manage(actor, new_role)
    demote = (new_role is not None and new_role is not Role.owner) or bool(disabled)
    _guard_last_owner(conn, target, demote=demote)
    values: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    if new_role is not None and new_role is not target.role:
        values["role"] = detail["role"] = new_role.value
    if all_groups is not None:
        values["all_groups"] = detail["all_groups"] = all_groups
    if disabled is not None:
        values["disabled"] = detail["disabled"] = disabled
    if values:
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
    if disabled:
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    if group_ids is not None:
        group_ids = _distinct(group_ids)
        _check_groups(conn, group_ids)
        conn.execute(delete(user_groups).where(user_groups.c.user_id == user_id))
        if group_ids:
            conn.execute(
                insert(user_groups), [{"user_id": user_id, "group_id": g} for g in group_ids]
            )
        detail["group_ids"] = group_ids
    if detail:
        audit.record(conn, actor, "user.change", target.name, detail)
    return get(conn, user_id)


def remove(conn: Connection, actor: Actor, user_id: int) -> None:
    target = get(conn, user_id)
    _check_manage(actor, target.role)
    if actor.user_id == user_id:
        raise Conflict("you cannot delete your own account", zh="不能删除自己的账号")
    _guard_last_owner(conn, target, demote=True)
    for table in (sessions, api_tokens, user_groups):
        conn.execute(delete(table).where(table.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.id == user_id))
    audit.record(conn, actor, "user.delete", target.name)


def set_password(
    conn: Connection, actor: Actor, user_id: int, new: str, *, old: str | None = None
) -> None:
    """Change a password: one's own with the old one, another's as their manager."""
    target = get(conn, user_id)
    if actor.user_id == user_id and actor.via != "cli":
        row = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).one()
        if old is None or not passwords.verify(row.password_hash, old):
            raise PermissionDenied("the current password is wrong", zh="当前密码不正确")
    else:
        _check_manage(actor, target.role)
    passwords.check_password(new)
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=passwords.hash_password(new), password_changed_at=clock.now())
    )
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    audit.record(conn, actor, "user.password", target.name)
    if prefs.read(conn).get(prefs.ONE_TIME_PASSWORD_USER) == str(user_id):
        prefs.set_marker(conn, prefs.ONE_TIME_PASSWORD_USER, None)


def set_lang(conn: Connection, actor: Actor, lang: str | None) -> None:
    if actor.user_id is not None:
        conn.execute(update(users).where(users.c.id == actor.user_id).values(lang=lang))


def authenticate(conn: Connection, name: str, password: str, ip: str | None) -> User | None:
    """The user if name and password match; None (and a counted failure) otherwise.

    Raises TooManyAttempts before checking anything once the limit is reached.
    The caller commits either way, so failures are counted even though sign-in fails.
    """
    keys = ratelimit.keys(name, ip)
    ratelimit.check(conn, keys)
    row = conn.execute(select(users).where(_named(name))).first()
    ok = passwords.verify(row.password_hash if row else passwords.DUMMY_HASH, password)
    if row is None or not ok or row.disabled:
        ratelimit.note_failure(conn, keys)
        return None
    ratelimit.clear(conn, name)
    if passwords.needs_rehash(row.password_hash):
        conn.execute(
            update(users)
            .where(users.c.id == row.id)
            .values(password_hash=passwords.hash_password(password))
        )
    return _user(conn, row)


def ensure_owner(conn: Connection, name: str = "owner") -> str | None:
    """On a store with no users, create the owner; returns its one-time password."""
    if count(conn):
        return None
    from qunyun.accounts.roles import CLI

    user, password = create(conn, CLI, name, Role.owner, all_groups=True)
    prefs.set_marker(conn, prefs.ONE_TIME_PASSWORD_USER, str(user.id))
    return password
