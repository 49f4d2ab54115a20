"""Importing an export into the store: the service behind ``qunyun import`` and the console.

It joins an importer (which only reads) to the ingester (which only writes),
batches records, counts per file what was read, new, already present and
rejected, and keeps the transaction rules the user relies on:

* default: one transaction per batch (:data:`BATCH_SIZE` events). Valid records
  are kept, bad ones are reported, and an interruption leaves a consistent store
  that a rerun completes (re-importing adds nothing that is already there);
* ``strict``: one transaction for the whole import; the first bad record aborts
  it and nothing at all is written;
* an export already imported, byte for byte, with the same settings and the same
  importer code (:mod:`qunyun.importers.fingerprint`) is not read again: the earlier
  import's counts are reported as already present (``force`` reads it anyway).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, select

from qunyun import clock, importers
from qunyun.analytics import rollups
from qunyun.crm import links
from qunyun.errors import StrictImportAborted
from qunyun.importers.base import Importer, ImportOptions, Rejected, SourceFile
from qunyun.importers.fingerprint import fingerprint
from qunyun.importers.parallel import PackedFile, files_in_child
from qunyun.store.ingest import Ingester, Packed, WriteResult
from qunyun.store.schema import imports
from qunyun.timezones import local_zone_name, zone

#: events per transaction, at most. A commit writes every index page the batch
#: touched to the WAL, and keys of the (source, source_event_id) index are hashes
#: for several formats, so a batch touches most of that index's pages whatever its
#: size: large batches write far less (1M WhatsApp lines: 7 GB at 5,000 a batch,
#: 1 GB at 50,000). The first batch is FIRST_BATCH and each next one twice the one
#: before, so a small import still commits early and often.
BATCH_SIZE = 50_000
FIRST_BATCH = 5_000
#: allocations between young-generation garbage collections while importing (the
#: default is 700). Parsing and writing allocate millions of short-lived, acyclic
#: tuples and dicts; at the default the collector runs thousands of times over a
#: batch that is still alive and costs about a sixth of the writer's time.
GC_THRESHOLD = 100_000
#: rejections kept in detail per file (all are counted)
MAX_ERRORS_KEPT = 200


@dataclass
class FileReport:
    file: str
    read: int = 0
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    path: str
    format: str
    tz: str
    status: str = "running"  # running | done | interrupted | failed
    files: list[FileReport] = field(default_factory=list)
    #: digest of the input and of how it was read (see importers/fingerprint.py)
    fingerprint: str | None = None
    #: the import whose result this one repeats: same bytes, same settings, not re-read
    unchanged_since: int | None = None
    #: what the identity linker did at the end (qunyun.crm.links.LinkRun.as_dict)
    links: dict[str, Any] | None = None

    def totals(self) -> dict[str, int]:
        keys = ("read", "new", "duplicate", "rejected", "skipped")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "tz": self.tz,
            "status": self.status,
            "fingerprint": self.fingerprint,
            "unchanged_since": self.unchanged_since,
            "totals": self.totals(),
            "files": [asdict(f) for f in self.files],
            "links": self.links,
        }


class Progress(Protocol):
    def start_file(self, label: str, size: int | None) -> None: ...
    def advance(self, position: int, read: int) -> None: ...
    def end_file(self, report: FileReport) -> None: ...


#: called inside the writing transaction with the events that were new
WrittenHook = Callable[[Connection, WriteResult], None]


def run_import(
    engine: Engine,
    path: Path,
    *,
    fmt: str | Importer | None = None,
    tz: str | None = None,
    group: str | None = None,
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    on_written: WrittenHook | None = None,
    parallel: bool = False,
    force: bool = False,
) -> ImportReport:
    """Import ``path``; ``parallel`` parses in a child process while this one writes.

    ``force`` reads the export even when the very same one was imported before.
    """
    if isinstance(fmt, str):
        importer = importers.get(fmt)
    else:
        importer = fmt or importers.detect(path)
    tz_name = tz or local_zone_name()
    options = ImportOptions(tz=zone(tz_name), group=group)
    report = ImportReport(path=str(path), format=importer.name, tz=tz_name)
    if (fmt is None or isinstance(fmt, str)) and (path.is_file() or path.is_dir()):
        # (an importer passed in, like the demo's, is code the digest does not cover)
        report.fingerprint = fingerprint(path, importer.name, tz_name, group)
        if not force and _repeat_earlier(engine, report, progress):
            report.links = links.after_import(engine, [])  # nothing new: the summary only
            with engine.begin() as conn:
                _record(conn, None, report)
            return report
    message_info = None
    if on_written is None:
        # rollups fold in the writing transaction; first bring them level with the log
        # (a store written before rollups existed) so nothing is left behind
        rollups.catch_up(engine)
        on_written = rollups.Rollups().on_written
        message_info = rollups.message_info  # classified where events are packed
    ingester = Ingester(group_tz=tz_name, update_group_tz=tz is not None, message_info=message_info)
    job = _Job(engine, ingester, report, strict, batch_size, progress, on_written)
    import_id = None if strict else _record_start(engine, report)
    gc_threshold = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *gc_threshold[1:])  # before the reader process forks
    files: Iterable[SourceFile | PackedFile] = (
        files_in_child(importer, path, options, ingester.pack)
        if parallel
        else importer.files(path, options)
    )
    try:
        if strict:
            with engine.begin() as conn:
                job.conn = conn
                job.run(files)
                ingester.flush_name_times(conn)
                report.status = "done"
                _record(conn, None, report)
            rollups.rebuild_groups(engine, ingester.tz_changed)
            report.links = links.after_import(engine, ingester.group_ids)
        else:
            job.run(files)
            with engine.begin() as conn:
                ingester.flush_name_times(conn)
            rollups.rebuild_groups(engine, ingester.tz_changed)
            report.links = links.after_import(engine, ingester.group_ids)
            report.status = "done"
    except KeyboardInterrupt:
        report.status = "interrupted"
        raise
    except BaseException:
        if report.status == "running":
            report.status = "failed"
        raise
    finally:
        gc.set_threshold(*gc_threshold)
        if import_id is not None:
            with engine.begin() as conn:
                _record(conn, import_id, report)
    return report


class _Job:
    """The state of one running import (batch buffer, current file report)."""

    def __init__(
        self,
        engine: Engine,
        ingester: Ingester,
        report: ImportReport,
        strict: bool,
        batch_size: int,
        progress: Progress | None,
        on_written: WrittenHook | None,
    ) -> None:
        self.engine = engine
        self.ingester = ingester
        self.report = report
        self.strict = strict
        self.max_batch = batch_size
        self.batch_size = min(batch_size, FIRST_BATCH)
        self.progress = progress
        self.on_written = on_written
        self.conn: Connection | None = None  # the one transaction of a strict import
        self.batch: list[Packed] = []

    def run(self, files: Iterable[SourceFile | PackedFile]) -> None:
        for sf in files:
            self._file(sf)

    def _file(self, sf: SourceFile | PackedFile) -> None:
        fr = FileReport(file=sf.label)
        self.report.files.append(fr)
        if self.progress:
            self.progress.start_file(sf.label, sf.size)
        pack, batch_size = self.ingester.pack, self.batch_size
        batch = self.batch
        for rec in sf.records:
            if not isinstance(rec, tuple):  # packed already when read in a child process
                if isinstance(rec, Rejected):
                    self._reject(fr, rec)
                    continue
                rec = pack(rec)
            fr.read += 1
            batch.append(rec)
            if len(batch) >= batch_size:
                self._flush(fr)
                batch = self.batch
                batch_size = self.batch_size = min(2 * batch_size, self.max_batch)
                if self.progress:
                    self.progress.advance(sf.position(), fr.read)
        self._flush(fr)
        if self.progress:
            self.progress.advance(sf.position(), fr.read)
            self.progress.end_file(fr)

    def _reject(self, fr: FileReport, rec: Rejected) -> None:
        if rec.skipped:
            fr.skipped += 1
        else:
            fr.rejected += 1
        if self.strict and not rec.skipped:
            raise StrictImportAborted(
                f"{rec.where()}: {rec.message} — --strict: nothing was imported",
                zh=f"{rec.where()}：{rec.message} —— 严格模式：未导入任何数据",
            )
        if len(fr.errors) < MAX_ERRORS_KEPT:
            fr.errors.append(
                {
                    "file": rec.file,
                    "line": rec.line,
                    "record": rec.record,
                    "field": rec.field,
                    "message": rec.message,
                    "skipped": rec.skipped,
                }
            )

    def _flush(self, fr: FileReport) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        if self.conn is not None:
            res = self._write(self.conn, batch)
        else:
            try:
                with self.engine.begin() as conn:
                    res = self._write(conn, batch)
            except BaseException:
                self.ingester.forget()  # its caches may name rows that were rolled back
                raise
        fr.new += res.new
        fr.duplicate += res.duplicate

    def _write(self, conn: Connection, batch: list[Packed]) -> WriteResult:
        res = self.ingester.write_packed(conn, batch)
        if self.on_written is not None and res.new:
            self.on_written(conn, res)
        return res


def _repeat_earlier(engine: Engine, report: ImportReport, progress: Progress | None) -> bool:
    """Fill ``report`` from the earlier import an unchanged re-import repeats, if any.

    Everything the earlier one read is reported as already present; its rejections
    stand, with their details, since the same bytes would be rejected again.
    """
    q = (
        select(imports.c.id, imports.c.result)
        .where(imports.c.status == "done", imports.c.format == report.format)
        .order_by(imports.c.id.desc())
        .limit(_EARLIER_IMPORTS_CHECKED)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    same = report.fingerprint
    earlier = next((r for r in rows if (r.result or {}).get("fingerprint") == same), None)
    if earlier is None:
        return False
    # the import that read it (a repeat of a repeat names the first)
    report.unchanged_since = int(earlier.result.get("unchanged_since") or earlier.id)
    for f in earlier.result.get("files", []):
        fr = FileReport(
            file=f["file"],
            read=f["read"],
            duplicate=f["read"],
            rejected=f["rejected"],
            skipped=f["skipped"],
            errors=f["errors"],
        )
        report.files.append(fr)
        if progress:
            progress.start_file(fr.file, None)
            progress.end_file(fr)
    report.status = "done"
    return True


#: how many of the newest finished imports of a format an unchanged re-import is sought in
_EARLIER_IMPORTS_CHECKED = 500


def _record_start(engine: Engine, report: ImportReport) -> int:
    with engine.begin() as conn:
        row = conn.execute(
            imports.insert()
            .values(
                path=report.path,
                format=report.format,
                status=report.status,
                started_at=clock.now(),
                result=report.as_dict(),
            )
            .returning(imports.c.id)
        ).one()
    return int(row.id)


def _record(conn: Connection, import_id: int | None, report: ImportReport) -> None:
    if import_id is None:
        conn.execute(
            imports.insert().values(
                path=report.path,
                format=report.format,
                status=report.status,
                started_at=clock.now(),
                finished_at=clock.now(),
                result=report.as_dict(),
            )
        )
    else:
        conn.execute(
            imports.update()
            .where(imports.c.id == import_id)
            .values(status=report.status, finished_at=clock.now(), result=report.as_dict())
        )
