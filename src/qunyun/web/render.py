"""Rendering dashboard pages: the Jinja environment and what every page gets."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, pass_context, select_autoescape

from qunyun import __version__
from qunyun.accounts.prefs import ONE_TIME_PASSWORD_USER
from qunyun.accounts.roles import Actor, Role
from qunyun.web.deps import console_prefs
from qunyun.web.i18n import lang_of, translate

env = Environment(
    loader=ChoiceLoader(
        [PackageLoader("qunyun.web", "templates"), PackageLoader("qunyun.reports", "templates")]
    ),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def num(v: Any) -> str:
    return "—" if v is None else f"{v:,}"


def pct(v: Any) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def signed_pct(v: Any) -> str:
    return "—" if v is None else f"{v * 100:+.0f}%"


env.filters["num"] = num
env.filters["pct"] = pct
env.filters["signed_pct"] = signed_pct
env.filters["day"] = lambda v: (v or "")[:10]


@pass_context
def minute(ctx: Any, value: str | None) -> str:
    """An ISO time as "YYYY-MM-DD HH:MM" in the console's time zone (Settings)."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(value).astimezone(ZoneInfo(ctx.get("console_tz") or "UTC"))
    except (ValueError, KeyError):
        return value.replace("T", " ")[:16]
    return at.strftime("%Y-%m-%d %H:%M")


env.filters["minute"] = minute


class Labels:
    """``t('nav.groups')`` for console strings; ``t.members`` for the report's labels.

    The report's sections (shared with the report file) read labels as attributes,
    the console's templates call a function: one object serves both.
    """

    def __init__(self, lang: str, report_labels: dict[str, str]) -> None:
        self.lang = lang
        self.report_labels = report_labels

    def __call__(self, key: str, **kw: Any) -> str:
        return translate(self.lang, key, **kw)

    def __getitem__(self, key: str) -> str:
        return self.report_labels[key]


def page(
    request: Request,
    template: str,
    actor: Actor | None,
    *,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    lang = lang_of(request)
    prefs = console_prefs(request)
    t = Labels(lang, ctx.pop("labels", {}))

    def link(**changes: Any) -> str:
        """This page's URL with some query parameters changed (None removes one)."""
        params = dict(request.query_params)
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = str(v)
        return request.url.path + ("?" + urlencode(params) if params else "")

    html = env.get_template(template).render(
        request=request,
        actor=actor,
        is_admin=bool(actor and actor.role.at_least(Role.admin)),
        can_write=bool(actor and actor.role.at_least(Role.operator)),
        lang=lang,
        t=t,
        link=link,
        csrf=getattr(request.state, "csrf", ""),
        path=request.url.path,
        version=__version__,
        console_tz=prefs["tz"],
        one_time_password=bool(actor)
        and prefs.get(ONE_TIME_PASSWORD_USER) == str(actor.user_id if actor else None),
        **ctx,
    )
    return HTMLResponse(html, status_code=status_code)


def pager(total: int, limit: int, offset: int) -> dict[str, Any]:
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "prev": max(offset - limit, 0) if offset > 0 else None,
        "next": offset + limit if offset + limit < total else None,
        "first": offset + 1 if total else 0,
        "last": min(offset + limit, total),
    }
