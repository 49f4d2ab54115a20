"""The FastAPI application: API under /api/v1, dashboard pages at /, assets at /static.

``create_app`` takes an engine so tests and ``qunyun serve`` hand over the store
they opened; ``factory`` is what uvicorn imports when serving with several
worker processes (each opens the store named by ``QUNYUN_DATABASE_URL``).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qunyun import __version__
from qunyun.errors import Conflict, UserError
from qunyun.web import deps, errors, pages, pages_ops
from qunyun.web.api import accounts, admin, auth, imports, members, metrics
from qunyun.web.cache import MetricCache

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    # inline SVG charts carry style attributes; scripts come only from /static
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(engine: Engine, *, worker: bool = False) -> FastAPI:
    """The console over ``engine``; ``worker`` also runs background jobs in this process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        w = None
        if worker:
            from qunyun.jobs.worker import Worker
            from qunyun.web.api.metrics import warm_overview

            w = Worker(engine, on_upkeep=lambda: warm_overview(app))
            w.start_thread()
        yield
        if w is not None:
            w.stop.set()

    app = FastAPI(
        title="qunyun 群运",
        version=__version__,
        description="Community operations across chat groups. Authenticate with "
        "`Authorization: Bearer qy_…` (create a token with `qunyun token create` or in "
        'Settings). Errors always have the shape `{"error": {"code", "message"}}`.',
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.cache = MetricCache()
    app.state.prefs_cache = None

    api = APIRouter(
        prefix="/api/v1",
        dependencies=[Depends(deps.storable_query)],
        responses={
            400: {"model": errors.ErrorResponse},
            401: {"model": errors.ErrorResponse},
            403: {"model": errors.ErrorResponse},
            404: {"model": errors.ErrorResponse},
            409: {"model": errors.ErrorResponse},
            422: {"model": errors.ErrorResponse},
        },
    )
    for module in (auth, accounts, admin, imports, members, metrics):
        api.include_router(module.router)

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness for load balancers; needs no credentials."""
        return {"status": "ok", "version": __version__}

    app.include_router(api)
    app.include_router(pages.router)
    app.include_router(pages_ops.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def on_user_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UserError)
        if not request.url.path.startswith("/api/"):
            return pages.error_page(request, exc)
        return errors.user_error_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith("/api/") and exc.status_code == 404:
            return pages.not_found_page(request)
        return errors.http_error_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith("/api/"):
            problem = exc.errors()[0] if exc.errors() else {}
            field = ".".join(str(p) for p in problem.get("loc", ()))
            return pages.error_page(
                request,
                UserError(
                    f"invalid {field}: {problem.get('msg', '')}",
                    zh=f"参数 {field} 无效：{problem.get('msg', '')}",
                    code="invalid",
                ),
            )
        return errors.validation_error_response(request, exc)

    async def on_integrity_error(request: Request, exc: Exception) -> Response:
        # two requests racing to create the same thing: the loser is told, not crashed
        clash = Conflict("that already exists (changed at the same moment?)", zh="已存在")
        return await on_user_error(request, clash)

    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(pages.NeedLogin, pages.to_login)
    app.add_exception_handler(UserError, on_user_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)

    app.add_middleware(HeadersMiddleware)
    return app


class HeadersMiddleware:
    """Security headers, ``Cache-Control`` and ``Server-Timing`` on every answer.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's
    BaseHTTPMiddleware runs each request through an extra task and memory stream,
    a measurable share of a cached API answer's time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # server time of every answer, for browsers' dev tools and web_bench.py
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1e3:.1f}"
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
                if api or "text/html" in headers.get("content-type", ""):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def factory() -> FastAPI:
    """For ``uvicorn --factory``: the store from the environment, no in-process worker."""
    from qunyun.store.engine import open_store

    return create_app(open_store(os.environ.get("QUNYUN_DATABASE_URL")), worker=False)
