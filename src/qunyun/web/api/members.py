"""Members (persons): list, detail, timeline."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from qunyun.accounts.roles import Actor
from qunyun.crm import members
from qunyun.web import deps
from qunyun.web.api.models import MAX_ID, Offset, Page, PathId

router = APIRouter(tags=["members"])


@router.get("/members", response_model=Page)
def list_members(
    q: str | None = Query(None, max_length=100, description="part of a name or account id"),
    group: int | None = Query(None, ge=1, le=MAX_ID, description="group id"),
    platform: str | None = Query(None, max_length=32),
    current: bool | None = Query(None, description="true: still in the group(s); false: left"),
    sort: Literal["recent", "messages", "name", "newest"] = "recent",
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = Depends(deps.api_actor),
    c: Connection = Depends(deps.conn),
) -> dict[str, Any]:
    items, total = members.listing(
        c,
        actor,
        q=q,
        group_id=group,
        platform=platform,
        current=current,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return deps.page_of(limit, offset, total, items)


@router.get("/members/{member_id}")
def get_member(
    member_id: PathId, actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> dict[str, Any]:
    return members.detail(c, actor, member_id)


@router.get("/members/{member_id}/events", response_model=Page)
def member_events(
    member_id: PathId,
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = Depends(deps.api_actor),
    c: Connection = Depends(deps.conn),
) -> dict[str, Any]:
    items = members.timeline(c, actor, member_id, limit=limit, offset=offset)
    # the total is not counted (a busy member has 100k events); a short page is the end
    return deps.page_of(limit, offset, offset + len(items), items)
