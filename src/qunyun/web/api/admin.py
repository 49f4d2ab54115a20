"""The audit log and console settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection

from qunyun.accounts import audit, prefs
from qunyun.accounts.roles import Actor, Role
from qunyun.web import deps
from qunyun.web.api.models import Offset, Page, SettingsIn, SettingsOut

router = APIRouter(tags=["admin"])


@router.get("/audit", response_model=Page)
def audit_log(
    user: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=64, description="prefix, e.g. user."),
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = Depends(deps.api_actor),
    c: Connection = Depends(deps.conn),
) -> dict[str, Any]:
    actor.require(Role.admin)
    items, total = audit.entries(c, user=user, action=action, limit=limit, offset=offset)
    return deps.page_of(limit, offset, total, items)


@router.get("/settings", response_model=SettingsOut)
def get_settings(
    actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> dict[str, str]:
    return prefs.read(c)


@router.put("/settings", response_model=SettingsOut)
def put_settings(
    body: SettingsIn, request: Request, actor: Actor = Depends(deps.api_actor)
) -> dict[str, str]:
    with deps.engine_of(request).begin() as c:
        out = prefs.write(c, actor, tz=body.tz, lang=body.lang)
    deps.forget_prefs(request)
    return out
