"""The demo job: the console's "load the demo community" button, as ``qunyun demo`` does it."""

from __future__ import annotations

from sqlalchemy import Engine

from qunyun.demo import generate
from qunyun.demo.source import load
from qunyun.jobs import queue
from qunyun.jobs.imports import JobProgress


def run(engine: Engine, job: queue.Job) -> None:
    p = job.params
    groups, members, days, seed = p["groups"], p["members"], p["days"], p["seed"]
    # the same community as `qunyun demo` with these options: loading it twice adds nothing
    plan = generate(groups, members, days, seed=seed)
    report = load(
        engine,
        plan,
        groups=groups,
        members=members,
        days=days,
        seed=seed,
        progress=JobProgress(engine, job.id),
    )
    queue.finish(engine, job.id, queue.DONE, result=report.as_dict())
