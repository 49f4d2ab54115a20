"""Sign in and out, and the caller's own account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import Connection

from qunyun.accounts import audit, sessions
from qunyun.accounts import users as users_mod
from qunyun.accounts.roles import Actor
from qunyun.errors import AuthenticationFailed
from qunyun.web import deps
from qunyun.web.api.models import LangIn, LoginIn, LoginOut, PasswordIn, UserOut
from qunyun.web.errors import ErrorResponse

router = APIRouter(tags=["auth"])


def sign_in(request: Request, response: Response, name: str, password: str) -> dict[str, Any]:
    """Check the password (rate-limited) and start a session; shared with the login page."""
    ip = deps.client_ip(request)
    with deps.engine_of(request).begin() as c:
        user = users_mod.authenticate(c, name, password, ip)
        if user is not None:
            secret, sess = sessions.start(c, user.id)
            audit.record(c, user.actor(via="session", ip=ip), "auth.login", user.name)
    if user is None:
        raise AuthenticationFailed(
            "wrong user name or password", zh="用户名或密码不正确", code="bad_credentials"
        )
    response.set_cookie(
        deps.SESSION_COOKIE,
        secret,
        max_age=int(sessions.LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {"user": user.as_dict(), "csrf": sess.csrf}


@router.post(
    "/auth/login",
    response_model=LoginOut,
    responses={429: {"model": ErrorResponse, "description": "too many failed sign-ins"}},
)
def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    """Start a dashboard session (cookie). Scripts should use API tokens instead."""
    return sign_in(request, response, body.name, body.password)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, actor: Actor = Depends(deps.api_actor)) -> Response:
    cookie = request.cookies.get(deps.SESSION_COOKIE)
    with deps.engine_of(request).begin() as c:
        if cookie:
            sessions.end(c, cookie)
        audit.record(c, actor, "auth.logout", actor.name)
    response = Response(status_code=204)
    response.delete_cookie(deps.SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(
    actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> dict[str, Any]:
    return users_mod.get(c, actor.uid).as_dict()


@router.put("/me/password", status_code=204)
def my_password(
    body: PasswordIn, request: Request, actor: Actor = Depends(deps.api_actor)
) -> Response:
    with deps.engine_of(request).begin() as c:
        users_mod.set_password(c, actor, actor.uid, body.new, old=body.old)
    deps.forget_prefs(request)  # the one-time-password notice goes at once
    return Response(status_code=204)


@router.put("/me/lang", response_model=UserOut)
def my_lang(body: LangIn, request: Request, actor: Actor = Depends(deps.api_actor)) -> Any:
    with deps.engine_of(request).begin() as c:
        users_mod.set_lang(c, actor, body.lang)
        return users_mod.get(c, actor.uid).as_dict()
