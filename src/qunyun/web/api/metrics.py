"""Overview, groups and their metrics, and the monthly report file."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection, func, select

from qunyun.accounts.roles import Actor, Role
from qunyun.analytics import overview, report
from qunyun.analytics.scope import Scope, day_date
from qunyun.errors import NotFound, UserError
from qunyun.store.queries import is_member
from qunyun.store.schema import groups, memberships
from qunyun.web import cache, deps, scopes
from qunyun.web.api.models import MAX_ID, Offset, Page, PathId

router = APIRouter(tags=["metrics"])

GROUP_SORTS = (
    "title",
    "members",
    "joins",
    "net",
    "messages",
    "effective",
    "active_members",
    "active_share",
    "health_score",
    "change",
)


@dataclass(frozen=True)
class Range:
    """The date range a metric request names (see :func:`date_range`)."""

    month: str | None = None
    start: str | None = None
    end: str | None = None

    def scope(self, c: Connection, actor: Actor, group_id: int | None = None) -> Scope:
        # a missing or hidden group is a 404/403 as on /groups/{id}, not a 400 from
        # the CLI's group lookup (which would also match titles containing the id)
        return scopes.for_request(
            c, actor, group_id, month=self.month, start=self.start, end=self.end
        )


async def date_range(
    month: str | None = Query(None, max_length=7, description="YYYY-MM"),
    start: str | None = Query(None, alias="from", max_length=10, description="YYYY-MM-DD"),
    end: str | None = Query(None, alias="to", max_length=10, description="YYYY-MM-DD"),
) -> Range:
    """The query parameters every metric takes (``async``: a plain function would be
    run in a worker thread, a hand-off that costs more than this)."""
    return Range(month, start, end)


def _key(name: str, scope: Scope, *extra: Any) -> tuple[Any, ...]:
    return (name, tuple(scope.group_ids), scope.first_day, scope.last_day, *extra)


def overview_doc(request: Request, c: Connection, actor: Actor, rng: Range) -> dict[str, Any]:
    scope = rng.scope(c, actor)
    doc: dict[str, Any] = request.app.state.cache.get(
        c, _key("overview", scope), lambda: overview.build(c, scope)
    )
    return doc


#: calendar months of overviews kept computed, besides the last 30 days
WARM_MONTHS = 12


def warm_overview(app: Any) -> None:
    """Compute the overviews people open into the cache, after data changed.

    The last 30 days and each of the last ``WARM_MONTHS`` months, for every group
    and for each distinct group set of scoped users: an overview of a thousand
    groups takes about a second to compute and milliseconds to serve. Entries whose
    data did not change are cache hits and cost one read; entries trailing a live
    stream are refreshed once half their grace is gone (web/cache.py). Run by the
    console's background thread after each upkeep round.
    """
    from qunyun.accounts import users as users_mod
    from qunyun.accounts.roles import CLI

    engine = app.state.engine
    with engine.connect() as c:
        if c.execute(select(func.count()).select_from(groups)).scalar_one() == 0:
            return
        actors: dict[frozenset[int] | None, Actor] = {None: CLI}
        for u in users_mod.all_users(c):
            a = u.actor(via="warm")
            if not u.disabled and not a.sees_all_groups and a.group_ids:
                actors.setdefault(a.group_ids, a)
        last = scopes.for_request(c, CLI).last_day
        newest = day_date(last)
        months = []
        y, m = newest.year, newest.month
        for _ in range(WARM_MONTHS):
            months.append(f"{y:04d}-{m:02d}")
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        for actor in actors.values():
            for month in [None, *months]:
                rng = Range(month=month, start=None, end=None)
                try:
                    scope = rng.scope(c, actor)
                except UserError:
                    continue  # e.g. a month before the groups existed
                app.state.cache.get(
                    c,
                    _key("overview", scope),
                    lambda scope=scope: overview.build(c, scope),
                    refresh_after=cache.GRACE / 2,
                )


def group_report(
    request: Request, c: Connection, actor: Actor, group_id: int, rng: Range
) -> dict[str, Any]:
    scope = rng.scope(c, actor, group_id)
    doc: dict[str, Any] = request.app.state.cache.get(
        c, _key("report", scope), lambda: report.build(c, scope, keywords=False)
    )
    return doc


def group_keywords(
    request: Request, c: Connection, actor: Actor, group_id: int, rng: Range
) -> dict[str, Any]:
    scope = rng.scope(c, actor, group_id)

    def compute() -> dict[str, Any]:
        kw: dict[str, Any] = report.build(c, scope, keywords=True)["keywords"]
        return kw

    doc: dict[str, Any] = request.app.state.cache.get(c, _key("keywords", scope), compute)
    return doc


@router.get("/overview", response_model=dict[str, Any])
async def get_overview(request: Request, rng: Range = Depends(date_range)) -> Response:
    """Totals, day-by-day counts and one row per group, for the groups you can see."""
    return await deps.api_read(
        request, lambda c, actor: deps.json_response(overview_doc(request, c, actor, rng))
    )


def filter_groups(
    rows: list[dict[str, Any]],
    *,
    q: str | None,
    platform: str | None,
    dying: bool | None,
    sort: str,
    order: str,
) -> list[dict[str, Any]]:
    if q:
        needle = q.strip().lower()
        rows = [
            r
            for r in rows
            if needle in (r["title"] or "").lower()
            or needle in r["external_id"].lower()
            or needle == str(r["id"])
        ]
    if platform:
        rows = [r for r in rows if r["platform"] == platform]
    if dying is not None:
        rows = [r for r in rows if r["dying"] is dying]
    missing_last = [r for r in rows if r.get(sort) is None]
    present = [r for r in rows if r.get(sort) is not None]
    present.sort(
        key=lambda r: (str(r[sort]).lower() if sort == "title" else r[sort], r["id"]),
        reverse=order == "desc",
    )
    return present + missing_last


@router.get("/groups", response_model=Page)
async def list_groups(
    request: Request,
    q: str | None = Query(None, max_length=100, description="part of the title or id"),
    platform: str | None = Query(None, max_length=32),
    dying: bool | None = Query(None, description="only fading (true) or healthy (false) groups"),
    sort: Literal[GROUP_SORTS] = "messages",  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "desc",
    limit: int = Query(50, ge=1, le=1000),
    offset: Offset = 0,
    rng: Range = Depends(date_range),
) -> dict[str, Any]:
    """Groups with their numbers for the range (default: the last 30 days of data)."""

    def work(c: Connection, actor: Actor) -> dict[str, Any]:
        rows = filter_groups(
            overview_doc(request, c, actor, rng)["groups"],
            q=q,
            platform=platform,
            dying=dying,
            sort=sort,
            order=order,
        )
        return deps.page_of(limit, offset, len(rows), rows[offset : offset + limit])

    return await deps.api_read(request, work)


@router.get("/groups/{group_id}")
def get_group(
    group_id: PathId, actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> dict[str, Any]:
    actor.require_group(group_id)
    row = c.execute(select(groups).where(groups.c.id == group_id)).first()
    if row is None:
        raise NotFound(f"no group {group_id}", zh=f"没有群 {group_id}")
    m = memberships.c
    members_now = c.execute(
        select(func.count()).where(m.group_id == group_id, is_member())
    ).scalar_one()
    return {
        "id": row.id,
        "platform": row.platform,
        "external_id": row.external_id,
        "title": row.title or row.external_id,
        "tz": row.tz,
        "created_at": row.created_at.isoformat(),
        "members": int(members_now),
    }


GroupDoc = Callable[[Request, Connection, Actor, int, Range], dict[str, Any]]


async def _group_json(request: Request, group_id: int, rng: Range, doc: GroupDoc) -> Response:
    """A group's cached metric document as JSON, in one worker-thread hand-off."""
    return await deps.api_read(
        request, lambda c, actor: deps.json_response(doc(request, c, actor, group_id, rng))
    )


@router.get("/groups/{group_id}/report", response_model=dict[str, Any])
async def get_group_report(
    request: Request, group_id: PathId, rng: Range = Depends(date_range)
) -> Response:
    """Every metric of docs/metrics.md for one group (keywords: see /keywords)."""
    return await _group_json(request, group_id, rng, group_report)


@router.get("/groups/{group_id}/keywords", response_model=dict[str, Any])
async def get_group_keywords(
    request: Request, group_id: PathId, rng: Range = Depends(date_range)
) -> Response:
    return await _group_json(request, group_id, rng, group_keywords)


MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}


def render_report(
    c: Connection, actor: Actor, group_id: int | None, rng: Range, fmt: str, lang: str
) -> tuple[bytes, str]:
    """The report file's bytes and its download name; shared with the reports page."""
    import orjson

    actor.require(Role.viewer)
    scope = rng.scope(c, actor, group_id)
    doc = report.build(c, scope)
    name = f"qunyun-report-{doc['scope']['from']}-{doc['scope']['to']}.{fmt}"
    if fmt == "json":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2), name
    if fmt == "csv":
        from qunyun.reports.csv_export import render_csv

        return render_csv(doc).encode(), name
    from qunyun.reports.html import render_html

    page = render_html(doc, lang)
    if fmt == "html":
        return page.encode(), name
    from qunyun.reports.pdf import render_pdf

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "report.pdf"
        render_pdf(page, target)
        return target.read_bytes(), name


@router.get(
    "/reports/monthly",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
def monthly_report(
    group: int | None = Query(
        None, ge=1, le=MAX_ID, description="group id (default: every group you see)"
    ),
    fmt: Literal["html", "pdf", "json", "csv"] = Query("html", alias="format"),
    lang: Literal["zh", "en"] = "zh",
    rng: Range = Depends(date_range),
    actor: Actor = Depends(deps.api_actor),
    c: Connection = Depends(deps.conn),
) -> Response:
    """The monthly report (社群月报) as a file to download."""
    data, name = render_report(c, actor, group, rng, fmt, lang)
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
