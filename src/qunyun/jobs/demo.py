"""The demo job: the console's "load the demo community" button, as ``qunyun demo`` does it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from qunyun.demo import generate
from qunyun.demo.source import DemoSource
from qunyun.importing import run_import
from qunyun.jobs import queue
from qunyun.jobs.imports import JobProgress


def run(engine: Engine, job: queue.Job) -> None:
    p = job.params
    groups, members, days, seed = p["groups"], p["members"], p["days"], p["seed"]
    # the same community as `qunyun demo` with these options: loading it twice adds nothing
    plan = generate(groups, members, days, seed=seed)
    label = f"demo seed={seed} groups={groups} members={members} days={days}"
    report = run_import(
        engine,
        Path(label),
        fmt=DemoSource(plan, "demo"),
        tz="Asia/Shanghai",
        batch_size=20_000,
        progress=JobProgress(engine, job.id),
    )
    queue.finish(engine, job.id, queue.DONE, result=report.as_dict())
