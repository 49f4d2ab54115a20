"""Dashboard pages: sign-in, overview, groups, members (imports, reports and settings
are in pages_ops). Pages call the same functions as the API routes."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, func, select

from qunyun.accounts.roles import Actor
from qunyun.crm import members as members_mod
from qunyun.errors import AuthenticationFailed, NotFound, TooManyAttempts, UserError
from qunyun.reports import charts
from qunyun.reports.html import report_context
from qunyun.store.schema import groups
from qunyun.web import deps
from qunyun.web.api import auth as auth_api
from qunyun.web.api.metrics import (
    Range,
    date_range,
    filter_groups,
    group_keywords,
    group_report,
    overview_doc,
)
from qunyun.web.i18n import COOKIE as LANG_COOKIE
from qunyun.web.i18n import LANGS, lang_of, translate
from qunyun.web.render import page, pager

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.storable_page_input)])
LOGIN_CSRF = "qunyun_login_csrf"


class NeedLogin(Exception):
    """Raised by pages for a visitor without a session: answered with a redirect."""


def to_login(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)


def _quote(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="")


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def viewer(request: Request) -> Actor:
    actor = deps.optional_actor(request)
    if actor is None:
        raise NeedLogin
    return actor


def check_csrf(request: Request, token: str | None) -> None:
    if not deps.csrf_ok(request, token):
        raise UserError(
            "the form expired or came from another site: reload the page and try again",
            zh="表单已过期或来自其他网站：请刷新页面后重试",
            code="csrf",
        )


def writer(request: Request, csrf: str = Form("")) -> Actor:
    """The signed-in caller of a form that changes something, its CSRF token checked.

    Every page route that writes takes its actor from here, so none can forget the check.
    """
    actor = viewer(request)
    check_csrf(request, csrf)
    return actor


def group_choices(c: Connection, actor: Actor) -> list[tuple[int, str]]:
    """(id, title) of the groups the caller sees, by title: the pages' group pickers."""
    rows = c.execute(select(groups.c.id, groups.c.title, groups.c.external_id)).all()
    visible = [(g.id, g.title or g.external_id) for g in rows if actor.can_see(g.id)]
    return sorted(visible, key=lambda x: x[1].lower())


def error_page(request: Request, exc: UserError) -> Response:
    from qunyun.web.errors import status_of

    if isinstance(exc, AuthenticationFailed):
        return to_login(request, exc)
    actor = getattr(request.state, "actor", None)
    message = exc.zh if lang_of(request) == "zh" and exc.zh else exc.message
    return page(request, "error.html.j2", actor, status_code=status_of(exc), message=message)


def not_found_page(request: Request) -> Response:
    return error_page(request, NotFound("page not found", zh="页面不存在"))


# --------------------------------------------------------------------------- sign-in


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    if deps.optional_actor(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    token = secrets.token_urlsafe(16)
    resp = page(request, "login.html.j2", None, next=safe_next(next), login_csrf=token)
    resp.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/login")
    return resp


@router.post("/login")
def login_submit(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    login_csrf: str = Form(""),
) -> Response:
    error = None
    cookie = request.cookies.get(LOGIN_CSRF, "")
    if not cookie or not secrets.compare_digest(cookie, login_csrf):
        error = translate(lang_of(request), "login.failed")
    else:
        resp = RedirectResponse(safe_next(next), status_code=303)
        try:
            auth_api.sign_in(request, resp, name, password)
            resp.delete_cookie(LOGIN_CSRF, path="/login")
            return resp
        except TooManyAttempts as exc:
            error = exc.zh if lang_of(request) == "zh" and exc.zh else exc.message
        except AuthenticationFailed:
            error = translate(lang_of(request), "login.failed")
    token = secrets.token_urlsafe(16)
    out = page(
        request,
        "login.html.j2",
        None,
        status_code=401,
        next=safe_next(next),
        login_csrf=token,
        error=error,
        name=name,
    )
    out.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/login")
    return out


@router.post("/logout")
def logout(request: Request, actor: Actor = Depends(writer)) -> Response:
    from qunyun.accounts import audit, sessions

    with deps.engine_of(request).begin() as c:
        sessions.end(c, request.cookies.get(deps.SESSION_COOKIE, ""))
        audit.record(c, actor, "auth.logout", actor.name)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(deps.SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{lang}")
def switch_lang(request: Request, lang: str, next: str | None = None) -> Response:
    resp = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGS:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return resp


# --------------------------------------------------------------------------- overview


def _has_groups(c: Connection, actor: Actor) -> bool:
    if actor.sees_all_groups:
        return bool(c.execute(select(func.count()).select_from(groups)).scalar_one())
    return bool(actor.group_ids)


def _range_ctx(doc_scope: dict[str, Any], rng: Range) -> dict[str, Any]:
    return {
        "range_from": doc_scope["from"],
        "range_to": doc_scope["to"],
        "month": rng.month or "",
    }


@router.get("/", response_class=HTMLResponse)
def overview_page(
    request: Request, rng: Range = Depends(date_range), c: Connection = Depends(deps.conn)
) -> Response:
    actor = viewer(request)
    if not _has_groups(c, actor):
        return page(request, "empty.html.j2", actor)
    doc = overview_doc(request, c, actor, rng)
    lang = lang_of(request)
    daily = doc["daily"]
    days = [d["date"] for d in daily]
    chart_activity = charts.line([(d["date"], d["effective"]) for d in daily])
    chart_joins = charts.bars(
        days,
        [
            (translate(lang, "overview.joins"), [d["joins"] for d in daily], charts.ACCENT),
            (translate(lang, "overview.leaves"), [d["leaves"] for d in daily], charts.ACCENT_2),
        ],
    )
    top = sorted(doc["groups"], key=lambda g: (-g["effective"], g["id"]))[:10]
    dying = [g for g in doc["groups"] if g["dying"]]
    return page(
        request,
        "overview.html.j2",
        actor,
        doc=doc,
        totals=doc["totals"],
        chart_activity=chart_activity,
        chart_joins=chart_joins,
        top=top,
        dying=dying,
        **_range_ctx(doc["scope"], rng),
    )


# --------------------------------------------------------------------------- groups


@router.get("/groups", response_class=HTMLResponse)
def groups_page(
    request: Request,
    q: str | None = Query(None, max_length=100),
    platform: str | None = Query(None, max_length=32),
    dying: str | None = Query(None, max_length=5),
    sort: str = Query("messages", max_length=20),
    order: str = Query("desc", max_length=4),
    offset: int = Query(0, ge=0),
    rng: Range = Depends(date_range),
    c: Connection = Depends(deps.conn),
) -> Response:
    actor = viewer(request)
    if not _has_groups(c, actor):
        return page(request, "empty.html.j2", actor)
    from qunyun.web.api.metrics import GROUP_SORTS

    sort = sort if sort in GROUP_SORTS else "messages"
    order = order if order in ("asc", "desc") else "desc"
    doc = overview_doc(request, c, actor, rng)
    platforms = sorted({g["platform"] for g in doc["groups"]})
    rows = filter_groups(
        doc["groups"],
        q=q,
        platform=platform or None,
        dying=True if dying == "1" else None,
        sort=sort,
        order=order,
    )
    limit = 50
    return page(
        request,
        "groups.html.j2",
        actor,
        rows=rows[offset : offset + limit],
        pg=pager(len(rows), limit, offset),
        platforms=platforms,
        q=q or "",
        platform=platform or "",
        dying=dying == "1",
        sort=sort,
        order=order,
        **_range_ctx(doc["scope"], rng),
    )


@router.get("/groups/{group_id}", response_class=HTMLResponse)
def group_page(
    request: Request,
    group_id: int,
    rng: Range = Depends(date_range),
    c: Connection = Depends(deps.conn),
) -> Response:
    actor = viewer(request)
    doc = group_report(request, c, actor, group_id, rng)
    ctx = report_context(doc, lang_of(request))
    info = doc["scope"]["groups"][0]
    return page(
        request,
        "group.html.j2",
        actor,
        group=info,
        group_id=group_id,
        labels=ctx["t"],
        **{k: v for k, v in ctx.items() if k not in ("lang", "t")},
        **_range_ctx(doc["scope"], rng),
    )


@router.get("/groups/{group_id}/keywords", response_class=HTMLResponse)
def group_keywords_fragment(
    request: Request,
    group_id: int,
    rng: Range = Depends(date_range),
    c: Connection = Depends(deps.conn),
) -> Response:
    actor = viewer(request)
    kw = group_keywords(request, c, actor, group_id, rng)
    return page(request, "keywords.html.j2", actor, kw=kw)


# --------------------------------------------------------------------------- members


@router.get("/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    q: str | None = Query(None, max_length=100),
    group: int | None = Query(None),
    sort: str = Query("recent", max_length=10),
    offset: int = Query(0, ge=0),
    c: Connection = Depends(deps.conn),
) -> Response:
    actor = viewer(request)
    if not _has_groups(c, actor):
        return page(request, "empty.html.j2", actor)
    sort = sort if sort in members_mod.SORTS else "recent"
    limit = 50
    items, total = members_mod.listing(
        c, actor, q=q, group_id=group, sort=sort, limit=limit, offset=offset
    )
    choices = group_choices(c, actor)
    return page(
        request,
        "members.html.j2",
        actor,
        items=items,
        pg=pager(total, limit, offset),
        q=q or "",
        group=group,
        sort=sort,
        group_choices=choices,
    )


@router.get("/members/{member_id}", response_class=HTMLResponse)
def member_page(
    request: Request,
    member_id: int,
    offset: int = Query(0, ge=0),
    c: Connection = Depends(deps.conn),
) -> Response:
    actor = viewer(request)
    member = members_mod.detail(c, actor, member_id)
    limit = 50
    events = members_mod.timeline(c, actor, member_id, limit=limit, offset=offset)
    return page(
        request,
        "member.html.j2",
        actor,
        m=member,
        events=events,
        older=offset + limit if len(events) == limit else None,
        newer=max(offset - limit, 0) if offset else None,
    )
