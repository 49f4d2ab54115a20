"""Uploading exports and following their import jobs; loading the demo community."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy import Connection

from qunyun import importers
from qunyun.accounts.roles import Actor, Role
from qunyun.errors import UserError
from qunyun.jobs import queue
from qunyun.jobs.imports import uploads_dir
from qunyun.timezones import zone
from qunyun.web import deps
from qunyun.web.api.models import DemoIn, JobOut, Offset, Page, PathId

router = APIRouter(tags=["imports"])

CHUNK = 1 << 20


def max_upload() -> int:
    """Bytes; ``QUNYUN_MAX_UPLOAD_MB`` (default 2048) — full-account exports are big."""
    return int(os.environ.get("QUNYUN_MAX_UPLOAD_MB", "2048")) << 20


def _safe_name(name: str | None) -> str:
    base = Path(name or "").name.strip()
    base = re.sub(r"[^\w.\-()\[\] ]+", "_", base)[:120].strip(". ")
    return base or "upload"


def save_upload(upload: UploadFile) -> Path:
    """Copy the upload into its own folder under uploads/, refusing oversized files."""
    folder = uploads_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / _safe_name(upload.filename)
    written, limit = 0, max_upload()
    try:
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise UserError(
                        f"the file is larger than {limit >> 20} MB (QUNYUN_MAX_UPLOAD_MB)",
                        zh=f"文件超过 {limit >> 20} MB 上限（QUNYUN_MAX_UPLOAD_MB）",
                        code="too_large",
                    )
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise UserError("the uploaded file is empty", zh="上传的文件是空的", code="empty_file")
    return target


def check_options(fmt: str | None, tz: str | None) -> None:
    if fmt:
        importers.get(fmt)  # a clear error listing the formats
    if tz:
        zone(tz)


def start_import(
    request: Request,
    actor: Actor,
    upload: UploadFile,
    fmt: str | None,
    tz: str | None,
    group: str | None,
) -> int:
    """Validate, store the upload and queue the job; shared with the imports page."""
    actor.require(Role.operator)
    fmt, group = (fmt or None), (group or None)
    deps.refuse_unstorable("body", [("format", fmt), ("tz", tz or None), ("group", group)])
    # exports with local times only are read in the console's default zone (Settings),
    # not the server's, which may be anywhere
    tz = tz or deps.console_prefs(request)["tz"]
    check_options(fmt, tz)
    path = save_upload(upload)
    params = {"path": str(path), "filename": path.name, "format": fmt, "tz": tz, "group": group}
    with deps.engine_of(request).begin() as c:
        return queue.enqueue(c, actor, "import", params)


@router.get("/formats")
def formats(actor: Actor = Depends(deps.api_actor)) -> list[dict[str, str]]:
    return [
        {"format": n, "platform": i.platform, "description": i.description}
        for n, i in importers.available().items()
    ]


@router.post("/imports", response_model=JobOut, status_code=202)
def create_import(
    request: Request,
    file: UploadFile = File(description="the export: .json, .txt, .csv, .html or .zip"),
    format: str | None = Form(None, max_length=32),
    tz: str | None = Form(None, max_length=64),
    group: str | None = Form(None, max_length=255),
    actor: Actor = Depends(deps.api_actor),
) -> dict[str, Any]:
    """Queue an import of an uploaded export; poll GET /imports/{id} for progress."""
    jid = start_import(request, actor, file, format, tz, group)
    with deps.engine_of(request).connect() as c:
        return queue.get(c, actor, jid)


@router.post("/demo", response_model=JobOut, status_code=202)
def load_demo(body: DemoIn, request: Request, actor: Actor = Depends(deps.api_actor)) -> Any:
    """Queue loading a synthetic demo community (admins)."""
    actor.require(Role.admin)
    with deps.engine_of(request).begin() as c:
        jid = queue.enqueue(c, actor, "demo", body.model_dump())
        return queue.get(c, actor, jid)


@router.get("/imports", response_model=Page)
def list_imports(
    limit: int = Query(20, ge=1, le=200),
    offset: Offset = 0,
    actor: Actor = Depends(deps.api_actor),
    c: Connection = Depends(deps.conn),
) -> dict[str, Any]:
    items, total = queue.listing(c, actor, kind=None, limit=limit, offset=offset)
    return deps.page_of(limit, offset, total, items)


@router.get("/imports/{job_id}", response_model=JobOut)
def get_import(
    job_id: PathId, actor: Actor = Depends(deps.api_actor), c: Connection = Depends(deps.conn)
) -> dict[str, Any]:
    return queue.get(c, actor, job_id)
