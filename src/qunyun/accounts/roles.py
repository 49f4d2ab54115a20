"""Roles and what each may do.

Four roles in a strict order, each able to do everything the one below can:

* viewer   — read dashboards, members and reports of the groups they can see;
* operator — also import exports and generate reports (for their groups);
* admin    — also manage operators and viewers, every group, the audit log, settings;
* owner    — also manage admins and owners.

Operators and viewers see the groups assigned to them (or all, when their account
says so); admins and owners always see every group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from qunyun.errors import PermissionDenied, UserError


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"
    owner = "owner"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.viewer: 0, Role.operator: 1, Role.admin: 2, Role.owner: 3}


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise UserError(
            f"unknown role {text!r}: choose owner, admin, operator or viewer",
            zh=f"未知角色 {text!r}：可选 owner、admin、operator、viewer",
            code="bad_role",
        ) from None


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user, a token's user, or the local command line."""

    user_id: int | None
    name: str
    role: Role
    all_groups: bool = True
    group_ids: frozenset[int] = field(default_factory=frozenset)
    ip: str | None = None
    via: str = "cli"  # session | token | cli

    @property
    def uid(self) -> int:
        """The user's id; the command line has none and cannot act as a user."""
        if self.user_id is None:
            raise UserError("this needs a user account (--user)", zh="此操作需要指定用户（--user）")
        return self.user_id

    @property
    def sees_all_groups(self) -> bool:
        return self.all_groups or self.role.at_least(Role.admin)

    def can_see(self, group_id: int) -> bool:
        return self.sees_all_groups or group_id in self.group_ids

    def visible(self, group_ids: list[int]) -> list[int]:
        return group_ids if self.sees_all_groups else [g for g in group_ids if g in self.group_ids]

    def require(self, role: Role) -> None:
        if not self.role.at_least(role):
            raise PermissionDenied(
                f"this needs the {role.value} role or higher; you are {self.role.value}",
                zh=f"此操作需要 {role.value} 或更高角色；你的角色是 {self.role.value}",
            )

    def require_group(self, group_id: int) -> None:
        if not self.can_see(group_id):
            # the same answer as for a group that does not exist: scoping must not
            # reveal which groups exist
            from qunyun.errors import NotFound

            raise NotFound(f"no group {group_id}", zh=f"没有群 {group_id}")


#: the command line on the server's own machine: whoever can run it owns the store
CLI = Actor(user_id=None, name="cli", role=Role.owner, via="cli")
