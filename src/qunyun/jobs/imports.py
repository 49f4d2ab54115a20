"""The import job: an uploaded export run through the same service as ``qunyun import``."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from qunyun.accounts import users as users_mod
from qunyun.accounts.roles import Role
from qunyun.config import home_dir
from qunyun.errors import UserError
from qunyun.importing import FileReport, run_import
from qunyun.jobs import queue
from qunyun.store.schema import groups, user_groups

#: progress is written at most this often (seconds): a row update per batch would
#: cost more than the batch
PROGRESS_EVERY = 0.5


def uploads_dir() -> Path:
    return home_dir() / "uploads"


class JobProgress:
    """importing.Progress that writes into the job row, throttled."""

    def __init__(self, engine: Engine, job_id: int, hide: str | None = None) -> None:
        self.engine, self.job_id = engine, job_id
        #: a folder prefix cut from file names: the server's upload path is nobody's business
        self.hide = hide
        self.state: dict[str, Any] = {"files": [], "file": None}
        self.last = 0.0

    def start_file(self, label: str, size: int | None) -> None:
        self.state["file"] = {"name": self.name(label), "size": size, "position": 0, "read": 0}
        self._write(force=True)

    def advance(self, position: int, read: int) -> None:
        if self.state["file"]:
            self.state["file"].update(position=position, read=read)
        self._write()

    def end_file(self, report: FileReport) -> None:
        self.state["files"].append(
            {"name": self.name(report.file), "read": report.read, "new": report.new}
        )
        self.state["file"] = None
        self._write(force=True)

    def name(self, label: str) -> str:
        return label.replace(self.hide, "") if self.hide else label

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY:
            self.last = now
            queue.report_progress(self.engine, self.job_id, self.state)


def run(engine: Engine, job: queue.Job) -> None:
    p = job.params
    path = Path(p["path"])
    with engine.connect() as conn:
        before = conn.execute(select(func.max(groups.c.id))).scalar() or 0
    progress = JobProgress(engine, job.id, hide=str(path.parent) + os.sep)
    try:
        report = run_import(
            engine,
            path,
            fmt=p.get("format") or None,
            tz=p.get("tz") or None,
            group=p.get("group") or None,
            progress=progress,
            parallel=True,  # parse on the second core, as `qunyun import` does
        )
    except UserError as exc:
        message, zh = progress.name(exc.message), exc.zh and progress.name(exc.zh)
        queue.finish(
            engine,
            job.id,
            queue.FAILED,
            error=message,
            result={"error": {"code": exc.code, "message": message, "zh": zh}},
        )
        _discard(path)
        return
    except Exception:
        _discard(path)
        raise  # the worker marks the job failed and lives on
    _assign_new_groups(engine, job, before)
    result = report.as_dict()
    result["path"] = p.get("filename") or path.name
    for f in result["files"]:
        f["file"] = progress.name(f["file"])
        for err in f["errors"]:
            err["file"] = err["file"] and progress.name(err["file"])
    queue.finish(engine, job.id, queue.DONE, result=result)
    _discard(path)


def _assign_new_groups(engine: Engine, job: queue.Job, before: int) -> None:
    """An operator limited to some groups gets the groups their own import created."""
    if job.created_by is None:
        return
    with engine.begin() as conn:
        user = users_mod.get(conn, job.created_by)
        if user.all_groups or user.role.at_least(Role.admin):
            return
        new = conn.execute(select(groups.c.id).where(groups.c.id > before)).scalars().all()
        add = [g for g in new if g not in user.group_ids]
        if add:
            conn.execute(insert(user_groups), [{"user_id": user.id, "group_id": g} for g in add])


def _discard(path: Path) -> None:
    """Uploads live in their own folder per job; remove it once the job is over."""
    folder = path.parent
    if folder.parent == uploads_dir():
        shutil.rmtree(folder, ignore_errors=True)
