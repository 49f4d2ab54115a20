"""Scopes (groups × local days) for web requests, cut to what the caller may see."""

from __future__ import annotations

from sqlalchemy import Connection

from qunyun.accounts.roles import Actor
from qunyun.analytics.scope import Scope, resolve
from qunyun.errors import NotFound


def for_request(
    conn: Connection,
    actor: Actor,
    group_id: int | None = None,
    *,
    month: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Scope:
    """One visible group, or every group the caller sees; dates as in ``qunyun report``."""
    if group_id is not None:
        actor.require_group(group_id)
        s = resolve(conn, str(group_id), start, end, month)
        rows = tuple(g for g in s.groups if g.id == group_id)
        if not rows:
            raise NotFound(f"no group {group_id}", zh=f"没有群 {group_id}")
        return Scope(rows, s.first_day, s.last_day)
    s = resolve(conn, None, start, end, month)
    rows = tuple(g for g in s.groups if actor.can_see(g.id))
    if not rows:
        raise NotFound("no groups are visible to you yet", zh="你还没有可见的群", code="no_groups")
    return Scope(rows, s.first_day, s.last_day)
