"""Users and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Connection

from qunyun.accounts import tokens
from qunyun.accounts import users as users_mod
from qunyun.accounts.roles import Actor, Role
from qunyun.web import deps
from qunyun.web.api.models import (
    PasswordIn,
    PathId,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserCreated,
    UserIn,
    UserOut,
    UserPatch,
)

router = APIRouter(tags=["accounts"])


@router.get("/users", response_model=list[UserOut])
def list_users(
    actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> list[dict[str, Any]]:
    actor.require(Role.admin)
    return [u.as_dict() for u in users_mod.all_users(c)]


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(
    body: UserIn, request: Request, actor: Actor = Depends(deps.api_actor)
) -> dict[str, Any]:
    with deps.engine_of(request).begin() as c:
        user, password = users_mod.create(
            c,
            actor,
            body.name,
            body.role,
            password=body.password,
            group_ids=body.group_ids,
            all_groups=body.all_groups,
        )
    return {"user": user.as_dict(), "password": password}


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(
    user_id: PathId, actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> dict[str, Any]:
    if user_id != actor.user_id:
        actor.require(Role.admin)
    return users_mod.get(c, user_id).as_dict()


@router.patch("/users/{user_id}", response_model=UserOut)
def change_user(
    user_id: PathId, body: UserPatch, request: Request, actor: Actor = Depends(deps.api_actor)
) -> dict[str, Any]:
    with deps.engine_of(request).begin() as c:
        return users_mod.change(
            c,
            actor,
            user_id,
            role=body.role,
            group_ids=body.group_ids,
            all_groups=body.all_groups,
            disabled=body.disabled,
        ).as_dict()


@router.delete("/users/{user_id}", status_code=204)
def delete_user(
    user_id: PathId, request: Request, actor: Actor = Depends(deps.api_actor)
) -> Response:
    with deps.engine_of(request).begin() as c:
        users_mod.remove(c, actor, user_id)
    return Response(status_code=204)


@router.put("/users/{user_id}/password", status_code=204)
def set_password(
    user_id: PathId, body: PasswordIn, request: Request, actor: Actor = Depends(deps.api_actor)
) -> Response:
    with deps.engine_of(request).begin() as c:
        users_mod.set_password(c, actor, user_id, body.new, old=body.old)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    everyone: bool = Query(False, alias="all", description="every user's tokens (admins)"),
    actor: Actor = Depends(deps.api_actor),
    c: Connection = Depends(deps.conn),
) -> list[dict[str, Any]]:
    return tokens.listing(c, actor, everyone=everyone)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenIn, request: Request, actor: Actor = Depends(deps.api_actor)
) -> dict[str, Any]:
    with deps.engine_of(request).begin() as c:
        row, secret = tokens.create(c, actor, body.user, body.name)
    return {"token": row, "secret": secret}


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: PathId, request: Request, actor: Actor = Depends(deps.api_actor)
) -> dict[str, Any]:
    with deps.engine_of(request).begin() as c:
        return tokens.revoke(c, actor, token_id)
