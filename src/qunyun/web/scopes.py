"""Scopes (groups × local days) for web requests, cut to what the caller may see."""

from __future__ import annotations

from sqlalchemy import Connection, select

from qunyun.accounts.roles import Actor
from qunyun.analytics.scope import Scope, resolve, scope_of
from qunyun.errors import NotFound
from qunyun.store.schema import groups


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
        # by its key: the CLI's lookup by id, platform id or title scans every group
        rows = tuple(conn.execute(select(groups).where(groups.c.id == group_id)))
        if not rows:
            raise NotFound(f"no group {group_id}", zh=f"没有群 {group_id}")
        return scope_of(conn, rows, start, end, month)
    s = resolve(conn, None, start, end, month)
    rows = tuple(g for g in s.groups if actor.can_see(g.id))
    if not rows:
        raise NotFound("no groups are visible to you yet", zh="你还没有可见的群", code="no_groups")
    return Scope(rows, s.first_day, s.last_day)
