"""The import service's transaction rules, with a tiny line format made for the test.

(The real formats are tested in tests/importers/; here only batching, counting,
strictness and interruption matter.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from qunyun import importing
from qunyun.errors import StrictImportAborted
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importers.base import ImportOptions, Rejected, SourceFile
from qunyun.importing import run_import
from qunyun.store.schema import events, imports
from tests.conftest import EngineContract


class LineFormat:
    """``ISO-time|user|text`` per line; a bad time is a rejected record."""

    name = "lines"
    platform = "test"
    description = "test lines"

    def __init__(self, explode_at: int | None = None) -> None:
        self.explode_at = explode_at

    def detect(self, path: Path) -> int:
        return 100

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        yield SourceFile(str(path), self._records(path, options), path.stat().st_size)

    def _records(self, path: Path, options: ImportOptions) -> Iterator[Event | Rejected]:
        g = GroupRef("test", "g", "G")
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if self.explode_at == n:
                raise KeyboardInterrupt
            ts, user, text = line.split("|")
            try:
                when = datetime.fromisoformat(ts).replace(tzinfo=options.tz)
            except ValueError:
                yield Rejected(str(path), f"bad time {ts!r}", line=n, field="time")
                continue
            yield Event(
                "test",
                f"l{n}",
                Kind.MESSAGE,
                when,
                g,
                IdentityRef("test", user),
                None,
                {"text": text},
            )


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


@pytest.fixture
def export(tmp_path: Path) -> Path:
    lines = [f"2024-01-01T10:{i % 60:02d}:00|u{i % 7}|msg {i}" for i in range(1, 50)]
    lines[9] = "2024-13-01T10:00:00|u1|bad month"
    p = tmp_path / "chat.txt"
    p.write_text("\n".join(lines) + "\n")
    return p


class ImportContract(EngineContract):
    def test_counts_and_reimport(self, engine: Engine, export: Path) -> None:
        r = run_import(engine, export, fmt=LineFormat(), tz="Asia/Shanghai", batch_size=7)
        assert r.totals() == {"read": 48, "new": 48, "duplicate": 0, "rejected": 1, "skipped": 0}
        err = r.files[0].errors[0]
        assert (err["line"], err["field"]) == (10, "time")
        again = run_import(engine, export, fmt=LineFormat(), tz="Asia/Shanghai", batch_size=7)
        assert again.totals() == {
            "read": 48,
            "new": 0,
            "duplicate": 48,
            "rejected": 1,
            "skipped": 0,
        }
        assert count(engine) == 48
        with engine.connect() as conn:
            statuses = conn.execute(select(imports.c.status)).scalars().all()
        assert statuses == ["done", "done"]

    def test_strict_writes_nothing(self, engine: Engine, export: Path) -> None:
        with pytest.raises(StrictImportAborted, match="line 10"):
            run_import(engine, export, fmt=LineFormat(), tz="UTC", strict=True, batch_size=3)
        assert count(engine) == 0

    def test_interrupted_import_is_consistent_and_resumable(
        self, engine: Engine, export: Path
    ) -> None:
        with pytest.raises(KeyboardInterrupt):
            run_import(engine, export, fmt=LineFormat(explode_at=30), tz="UTC", batch_size=4)
        partial = count(engine)
        assert partial == 28  # 7 whole batches of 4 (line 10 was rejected)
        with engine.connect() as conn:
            assert conn.execute(select(imports.c.status)).scalar() == "interrupted"
        r = run_import(engine, export, fmt=LineFormat(), tz="UTC", batch_size=4)
        assert r.totals()["new"] == 48 - partial
        assert count(engine) == 48

    def test_batches_grow_from_the_first(
        self, engine: Engine, export: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(importing, "FIRST_BATCH", 4)
        with pytest.raises(KeyboardInterrupt):
            run_import(engine, export, fmt=LineFormat(explode_at=30), tz="UTC", batch_size=16)
        assert count(engine) == 4 + 8 + 16  # committed batches double up to batch_size
        r = run_import(engine, export, fmt=LineFormat(), tz="UTC", batch_size=16)
        assert r.totals()["new"] == 48 - 28


class TestImportSqlite(ImportContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestImportPostgres(ImportContract):
    engine_name = "postgres"
