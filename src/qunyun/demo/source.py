"""A demo plan seen as an import, so it is stored through the same path as real exports.

Batching, progress, the import log and idempotency then come for free: loading
the same demo twice adds nothing, and an interrupted load resumes on a rerun.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from qunyun.demo.generator import DemoPlan
from qunyun.importers.base import ImportOptions, Record, SourceFile

if TYPE_CHECKING:
    from qunyun.importing import ImportReport, Progress


class DemoSource:
    """An importer-shaped wrapper: one "file" whose records are the plan's events."""

    name = "demo"
    platform = "demo"
    description = "synthetic demo community (qunyun demo)"

    def __init__(self, plan: DemoPlan, label: str) -> None:
        self.plan = plan
        self.label = label
        self._count = 0

    def detect(self, path: Path) -> int:
        return 0

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        yield SourceFile(self.label, self._records(), self.plan.total, lambda: self._count)

    def _records(self) -> Iterator[Record]:
        for ev in self.plan.events():
            self._count += 1
            yield ev


def load(
    engine: Engine,
    plan: DemoPlan,
    *,
    groups: int,
    members: int,
    days: int,
    seed: int,
    progress: Progress | None = None,
    parallel: bool = False,
) -> ImportReport:
    """Store ``plan`` as ``qunyun demo`` does (the console's demo job calls this too)."""
    from qunyun.importing import run_import

    label = f"demo seed={seed} groups={groups} members={members} days={days}"
    return run_import(
        engine,
        Path(label),
        fmt=DemoSource(plan, "demo"),
        tz="Asia/Shanghai",
        batch_size=20_000,
        progress=progress,
        parallel=parallel,
    )
