"""Who is asking, in which language, and whether a write carries its CSRF token.

API callers authenticate with ``Authorization: Bearer qy_…`` (no CSRF needed: a
browser never adds that header by itself) or with the dashboard's session cookie,
in which case every write must echo the session's CSRF token in ``X-CSRF-Token``
(pages put it in a hidden form field instead).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from qunyun.accounts import prefs, sessions, tokens
from qunyun.accounts import users as users_mod
from qunyun.accounts.roles import Actor
from qunyun.errors import AuthenticationFailed, PermissionDenied
from qunyun.web.i18n import negotiate

SESSION_COOKIE = "qunyun_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFS_TTL = 10.0
T = TypeVar("T")


def engine_of(request: Request) -> Engine:
    e: Engine = request.app.state.engine
    return e


def conn(request: Request) -> Iterator[Connection]:
    """A read connection for the request (writes open their own transaction)."""
    with engine_of(request).connect() as c:
        yield c


def console_prefs(request: Request) -> dict[str, str]:
    """Console settings, cached briefly: every request needs the default language."""
    state = request.app.state
    cached = getattr(state, "prefs_cache", None)
    if cached and time.monotonic() - cached[0] < PREFS_TTL:
        return dict(cached[1])
    with engine_of(request).connect() as c:
        values = prefs.read(c)
    state.prefs_cache = (time.monotonic(), values)
    return dict(values)


def forget_prefs(request: Request) -> None:
    """After a change to settings (or a marker in them): the next request reads afresh."""
    request.app.state.prefs_cache = None


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _resolve(request: Request, conn: Connection | None = None) -> Actor | None:
    """Who sent the request (None: nobody signed in); ``conn``: a connection of the
    caller's to use (a token's last use may be written on it, and committed)."""
    if hasattr(request.state, "actor"):
        a: Actor | None = request.state.actor
        return a
    if conn is None:
        with engine_of(request).connect() as c:
            return _resolve(request, c)
    actor: Actor | None = None
    user_lang: str | None = None
    auth = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    if auth:
        scheme, _, token = auth.partition(" ")
        user = tokens.owner_of(conn, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            request.state.actor = None
            raise AuthenticationFailed(
                "the API token is invalid or revoked", zh="API 令牌无效或已吊销"
            )
        actor, user_lang = user.actor(via="token", ip=client_ip(request)), user.lang
    elif cookie:
        sess = sessions.find(conn, cookie)
        if sess is not None:
            user = users_mod.get(conn, sess.user_id)
            actor, user_lang = user.actor(via="session", ip=client_ip(request)), user.lang
            request.state.csrf = sess.csrf
    if conn.in_transaction():
        conn.commit()  # a token's last use, if it was written (else a no-op)
    request.state.actor = actor
    request.state.lang = negotiate(request, user_lang, console_prefs(request)["lang"])
    return actor


def optional_actor(request: Request) -> Actor | None:
    return _resolve(request)


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = getattr(request.state, "csrf", None)
    return bool(expected and sent and hmac.compare_digest(expected, sent))


def api_actor(request: Request) -> Actor:
    """The caller of an API route; 401 without credentials, 403 on a missing CSRF token."""
    return api_actor_on(request, None)


def api_actor_on(request: Request, conn: Connection | None) -> Actor:
    """:func:`api_actor`, looked up on ``conn`` when given."""
    actor = _resolve(request, conn)
    if actor is None:
        raise AuthenticationFailed(
            "sign in or send an API token (Authorization: Bearer qy_…)",
            zh="请先登录，或在 Authorization: Bearer 头中提供 API 令牌",
        )
    if (
        actor.via == "session"
        and request.method not in SAFE_METHODS
        and not csrf_ok(request, request.headers.get("x-csrf-token"))
    ):
        raise PermissionDenied(
            "missing or wrong X-CSRF-Token header for a signed-in write",
            zh="缺少或错误的 X-CSRF-Token（登录会话中的写操作需要）",
        )
    return actor


async def api_read(request: Request, work: Callable[[Connection, Actor], T]) -> T:
    """Authenticate and run a read-only route's ``work`` in one worker thread.

    As dependencies, the caller, the connection and a plain-function route would
    each be a hand-off to the thread pool (five with the connection's exit); for a
    metric served from the cache those hand-offs were most of the request's time.
    """

    def run() -> T:
        with engine_of(request).connect() as c:
            return work(c, api_actor_on(request, c))

    return await run_in_threadpool(run)


def storable(text: str) -> bool:
    """Whether a string can be stored and compared: PostgreSQL text refuses NUL
    characters and UTF-8 refuses unpaired surrogates (either would be a 500)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


NOT_STORABLE = "must not contain NUL or unpaired surrogate characters"


def refuse_unstorable(where: str, values: list[tuple[str, str | None]]) -> None:
    """A 422 naming the first field whose text cannot be stored."""
    for name, value in values:
        if value is not None and not (storable(name) and storable(value)):
            raise RequestValidationError(
                [{"loc": (where, name), "msg": NOT_STORABLE, "type": "value_error"}]
            )


async def storable_query(request: Request) -> None:
    """Every API route: query parameters a database can hold (bodies: models.Body).

    ``async`` although it awaits nothing: FastAPI runs a plain function in a worker
    thread, and this check is cheaper than the hand-off.
    """
    refuse_unstorable("query", list(request.query_params.multi_items()))


async def storable_page_input(request: Request) -> None:
    """Every page: query parameters and form fields a database can hold."""
    refuse_unstorable("query", list(request.query_params.multi_items()))
    if request.method == "POST" and "form" in request.headers.get("content-type", ""):
        form = await request.form()  # parsed once; the route's Form(...) reuses it
        refuse_unstorable("form", [(k, v) for k, v in form.multi_items() if isinstance(v, str)])


def json_response(doc: Any) -> Response:
    """``doc`` as JSON, written by orjson.

    Metric documents are served from the cache many times; FastAPI's own path
    (``jsonable_encoder`` walking every value, then ``json.dumps``) cost ~2 ms per
    request for one group's report, a hundred times orjson's.
    """
    return Response(
        orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS), media_type="application/json"
    )


def page_of(limit: int, offset: int, total: int, items: list[Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}
