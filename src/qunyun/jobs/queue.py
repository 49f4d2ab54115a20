"""The job table: enqueue, claim, report progress, finish, list."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from qunyun import clock
from qunyun.accounts import audit
from qunyun.accounts.roles import Actor
from qunyun.errors import NotFound
from qunyun.store.schema import jobs, users

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    params: dict[str, Any]
    created_by: int | None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue(conn: Connection, actor: Actor, kind: str, params: dict[str, Any]) -> int:
    jid = conn.execute(
        insert(jobs)
        .values(
            kind=kind,
            status=QUEUED,
            params=params,
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        .returning(jobs.c.id)
    ).scalar_one()
    audit.record(conn, actor, f"{kind}.start", params.get("filename"), {"job_id": jid})
    return int(jid)


def claim(engine: Engine, worker: str | None = None) -> Job | None:
    """Take the oldest queued job, or None; two workers never get the same one."""
    j = jobs.c
    # one statement: atomic under SQLite's single writer, and on PostgreSQL the
    # SKIP LOCKED subquery lets concurrent workers pass each other's claims
    oldest = (
        select(j.id)
        .where(j.status == QUEUED)
        .order_by(j.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with engine.begin() as conn:
        row = conn.execute(
            update(jobs)
            .where(j.id == oldest, j.status == QUEUED)
            .values(status=RUNNING, started_at=clock.now(), worker=worker or worker_name())
            .returning(j.id, j.kind, j.params, j.created_by)
        ).first()
    if row is None:
        return None
    return Job(int(row.id), row.kind, dict(row.params), row.created_by)


def report_progress(engine: Engine, job_id: int, progress: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(progress=progress))


def finish(
    engine: Engine,
    job_id: int,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(status=status, result=result, error=error, finished_at=clock.now())
        )


def requeue_orphans(engine: Engine) -> int:
    """Put back jobs whose worker process on this host is gone (crash, kill, restart)."""
    host = socket.gethostname() + ":"
    j = jobs.c
    with engine.begin() as conn:
        rows = conn.execute(select(j.id, j.worker).where(j.status == RUNNING)).all()
        dead = [
            r.id
            for r in rows
            if r.worker and r.worker.startswith(host) and not _alive(r.worker[len(host) :])
        ]
        if dead:
            conn.execute(
                update(jobs)
                .where(j.id.in_(dead), j.status == RUNNING)
                .values(status=QUEUED, worker=None, started_at=None)
            )
    return len(dead)


def _alive(pid_text: str) -> bool:
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        # our own pid but a job we are not running: a previous process that had it
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "status": r.status,
        "params": r.params,
        "progress": r.progress,
        "result": r.result,
        "error": r.error,
        "created_by": r.user_name,
        "created_at": r.created_at.isoformat(),
        "started_at": r.started_at.isoformat() if r.started_at else None,
        "finished_at": r.finished_at.isoformat() if r.finished_at else None,
    }


def _select() -> Any:
    return select(jobs, users.c.name.label("user_name")).outerjoin(
        users, users.c.id == jobs.c.created_by
    )


def get(conn: Connection, actor: Actor, job_id: int) -> dict[str, Any]:
    row = conn.execute(_select().where(jobs.c.id == job_id)).first()
    if row is None or not _visible(actor, row):
        raise NotFound(f"no job {job_id}", zh=f"没有任务 {job_id}")
    return _row(row)


def _visible(actor: Actor, row: Any) -> bool:
    # operators and viewers limited to some groups see the jobs they started
    return actor.sees_all_groups or row.created_by == actor.user_id


def listing(
    conn: Connection,
    actor: Actor,
    *,
    kind: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    where = [] if kind is None else [jobs.c.kind == kind]
    if not actor.sees_all_groups:
        where.append(jobs.c.created_by == actor.user_id)
    total = conn.execute(select(func.count()).select_from(jobs).where(*where)).scalar_one()
    q = _select().where(*where).order_by(jobs.c.id.desc()).limit(limit).offset(offset)
    return [_row(r) for r in conn.execute(q)], int(total)
