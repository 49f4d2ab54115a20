"""One error shape for every API failure, in the request's language.

``{"error": {"code": "not_found", "message": "…", "details": [...]}}`` — ``code`` is
stable for scripts; ``message`` is for people, in Chinese or English.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from qunyun.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    UserError,
)
from qunyun.web.i18n import lang_of

STATUS = [
    (TooManyAttempts, 429),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (UserError, 400),
]

_HTTP = {
    400: ("bad_request", "bad request", "请求无效"),
    401: ("unauthenticated", "sign in or send an API token", "请先登录或提供 API 令牌"),
    403: ("forbidden", "not allowed", "没有权限"),
    404: ("not_found", "not found", "未找到"),
    405: ("method_not_allowed", "method not allowed", "不支持此方法"),
    413: ("too_large", "the upload is too large", "上传文件过大"),
    422: ("invalid", "invalid request", "请求参数无效"),
    429: ("rate_limited", "too many requests", "请求过于频繁"),
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    """The shape of every error the API returns."""

    error: ErrorBody


def status_of(exc: UserError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def user_error_response(request: Request, exc: UserError) -> JSONResponse:
    zh = lang_of(request) == "zh"
    message = exc.zh if zh and exc.zh else exc.message
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body(exc.code, message), status_code=status_of(exc), headers=headers)


def http_error_response(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code, en, zh = _HTTP.get(exc.status_code, ("error", "error", "错误"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("", en) else None
    message = zh if lang_of(request) == "zh" else (detail or en)
    return JSONResponse(
        body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


def validation_error_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = details[0] if details else {"field": "", "problem": ""}
    if lang_of(request) == "zh":
        message = f"参数 {first['field']} 无效：{first['problem']}"
    else:
        message = f"invalid {first['field']}: {first['problem']}"
    return JSONResponse(body("invalid", message, details), status_code=422)
