"""A demo plan seen as an import, so it is stored through the same path as real exports.

Batching, progress, the import log and idempotency then come for free: loading
the same demo twice adds nothing, and an interrupted load resumes on a rerun.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from qunyun.demo.generator import DemoPlan
from qunyun.importers.base import ImportOptions, Record, SourceFile


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
