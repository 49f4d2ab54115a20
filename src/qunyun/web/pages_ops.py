"""Dashboard pages that change things: imports, reports, settings (users, tokens, defaults)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from qunyun import importers
from qunyun.accounts import audit, prefs, tokens
from qunyun.accounts import users as users_mod
from qunyun.accounts.roles import Actor, Role
from qunyun.errors import UserError
from qunyun.jobs import queue
from qunyun.web import deps
from qunyun.web.api.imports import start_import
from qunyun.web.api.metrics import MEDIA, Range, date_range, render_report
from qunyun.web.pages import group_choices, viewer, writer
from qunyun.web.render import page, pager

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.storable_page_input)])


# --------------------------------------------------------------------------- imports


def _formats() -> list[tuple[str, str]]:
    return [(n, i.description) for n, i in importers.available().items() if n != "demo"]


@router.get("/imports", response_class=HTMLResponse)
def imports_page(
    request: Request, offset: int = Query(0, ge=0), c: Connection = Depends(deps.conn)
) -> Response:
    actor = viewer(request)
    limit = 20
    jobs, total = queue.listing(c, actor, limit=limit, offset=offset)
    return page(
        request,
        "imports.html.j2",
        actor,
        jobs=jobs,
        pg=pager(total, limit, offset),
        formats=_formats(),
        default_tz=prefs.read(c)["tz"],
    )


@router.post("/imports")
def imports_submit(
    request: Request,
    file: UploadFile = File(...),
    format: str = Form(""),
    tz: str = Form(""),
    group: str = Form(""),
    actor: Actor = Depends(writer),
) -> Response:
    jid = start_import(request, actor, file, format, tz, group)
    return RedirectResponse(f"/imports/{jid}", status_code=303)


@router.post("/demo")
def demo_submit(request: Request, actor: Actor = Depends(writer)) -> Response:
    actor.require(Role.admin)
    with deps.engine_of(request).begin() as c:
        jid = queue.enqueue(
            c, actor, "demo", {"groups": 20, "members": 3000, "days": 180, "seed": 0}
        )
    return RedirectResponse(f"/imports/{jid}", status_code=303)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, c: Connection = Depends(deps.conn)) -> Response:
    actor = viewer(request)
    job = queue.get(c, actor, job_id)
    return page(request, "job.html.j2", actor, job=job)


# --------------------------------------------------------------------------- reports


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, c: Connection = Depends(deps.conn)) -> Response:
    actor = viewer(request)
    choices = group_choices(c, actor)
    return page(
        request,
        "reports.html.j2",
        actor,
        group_choices=choices,
        group=request.query_params.get("group", ""),
    )


@router.get("/reports/download")
def report_download(
    request: Request,
    group: str = Query("", max_length=20),
    fmt: str = Query("html", alias="format", max_length=4),
    lang: str = Query("zh", max_length=2),
    rng: Range = Depends(date_range),
    c: Connection = Depends(deps.conn),
) -> Response:
    actor = viewer(request)
    if fmt not in MEDIA:
        raise UserError(
            "format must be html, pdf, json or csv", zh="格式须为 html、pdf、json 或 csv"
        )
    if not group.strip().isdigit() and group.strip():
        raise UserError("choose a group from the list", zh="请从列表中选择群")
    gid = int(group) if group.strip() else None
    data, name = render_report(c, actor, gid, rng, fmt, "en" if lang == "en" else "zh")
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --------------------------------------------------------------------------- settings


def _settings(request: Request, c: Connection, actor: Actor, **extra: Any) -> HTMLResponse:
    is_admin = actor.role.at_least(Role.admin)
    entries, _ = audit.entries(c, limit=30) if is_admin else ([], 0)
    return page(
        request,
        "settings.html.j2",
        actor,
        me=users_mod.get(c, actor.uid),
        users=users_mod.all_users(c) if is_admin else [],
        tokens=tokens.listing(c, actor, everyone=is_admin),
        settings=prefs.read(c),
        audit=entries,
        roles=[r.value for r in Role],
        **extra,
    )


def _group_ids(text: str) -> list[int]:
    """Group ids typed as "3, 12，40" (either comma); anything else is an error."""
    parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    bad = [p for p in parts if not p.isdigit()]
    if bad:
        raise UserError(
            f"group ids are numbers separated by commas, not {bad[0]!r}",
            zh=f"群 ID 应为逗号分隔的数字，{bad[0]!r} 不是",
        )
    return [int(p) for p in parts]


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, c: Connection = Depends(deps.conn)) -> Response:
    return _settings(request, c, viewer(request))


@router.post("/settings/users", response_class=HTMLResponse)
def settings_create_user(
    request: Request,
    name: str = Form(""),
    role: str = Form("viewer"),
    password: str = Form(""),
    group_ids: str = Form(""),
    actor: Actor = Depends(writer),
) -> Response:
    ids = _group_ids(group_ids)
    with deps.engine_of(request).begin() as c:
        user, generated = users_mod.create(
            c,
            actor,
            name,
            role,
            password=password or None,
            group_ids=ids,
            all_groups=not ids,
        )
    with deps.engine_of(request).connect() as c:
        return _settings(request, c, actor, new_password=(user.name, generated))


@router.post("/settings/users/{user_id}", response_class=HTMLResponse)
def settings_change_user(
    request: Request,
    user_id: int,
    action: str = Form(""),
    role: str = Form(""),
    group_ids: str = Form(""),
    actor: Actor = Depends(writer),
) -> Response:
    with deps.engine_of(request).begin() as c:
        if action == "delete":
            users_mod.remove(c, actor, user_id)
        elif action in ("disable", "enable"):
            users_mod.change(c, actor, user_id, disabled=action == "disable")
        elif action == "role":
            users_mod.change(c, actor, user_id, role=role)
        elif action == "groups":
            ids = _group_ids(group_ids)
            users_mod.change(c, actor, user_id, group_ids=ids, all_groups=not ids)
        else:
            raise UserError(f"unknown action {action!r}", zh=f"未知操作 {action!r}")
    return RedirectResponse("/settings#users", status_code=303)


@router.post("/settings/tokens", response_class=HTMLResponse)
def settings_create_token(
    request: Request, name: str = Form("token"), actor: Actor = Depends(writer)
) -> Response:
    with deps.engine_of(request).begin() as c:
        _row, secret = tokens.create(c, actor, None, name)
    with deps.engine_of(request).connect() as c:
        return _settings(request, c, actor, new_token=secret)


@router.post("/settings/tokens/{token_id}/revoke")
def settings_revoke_token(
    request: Request, token_id: int, actor: Actor = Depends(writer)
) -> Response:
    with deps.engine_of(request).begin() as c:
        tokens.revoke(c, actor, token_id)
    return RedirectResponse("/settings#tokens", status_code=303)


@router.post("/settings/prefs")
def settings_prefs(
    request: Request,
    tz: str = Form(""),
    lang: str = Form(""),
    actor: Actor = Depends(writer),
) -> Response:
    with deps.engine_of(request).begin() as c:
        prefs.write(c, actor, tz=tz or None, lang=lang or None)
    deps.forget_prefs(request)
    return RedirectResponse("/settings?saved=1#prefs", status_code=303)


@router.post("/settings/password")
def settings_password(
    request: Request,
    old: str = Form(""),
    new: str = Form(""),
    actor: Actor = Depends(writer),
) -> Response:
    with deps.engine_of(request).begin() as c:
        users_mod.set_password(c, actor, actor.uid, new, old=old)
    deps.forget_prefs(request)  # the one-time-password notice goes at once
    # a password change ends every session, this one too
    return RedirectResponse("/login", status_code=303)
