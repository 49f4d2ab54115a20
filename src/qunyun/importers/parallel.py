"""Run an importer in a child process, so parsing and storing use two cores.

Parsing (JSON/text → events) and writing (SQL, memberships, rollups) are both
CPU-bound Python; one process can only take turns between them. Here the child
parses and ships records in batches through a bounded queue (so memory stays
flat: at most ``MAX_BATCHES_IN_FLIGHT`` batches wait) while the parent writes.
To the caller it looks exactly like ``importer.files(path, options)``.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qunyun import errors
from qunyun.errors import UserError
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importers.base import Importer, ImportOptions, Record, SourceFile

RECORDS_PER_BATCH = 2000
MAX_BATCHES_IN_FLIGHT = 8


def _pack(rec: Record) -> Any:
    """An event as plain tuples: pickling those is C-fast, dataclasses are not."""
    if not isinstance(rec, Event):
        return rec
    a, t, g = rec.actor, rec.target, rec.group
    return (
        rec.source,
        rec.source_event_id,
        rec.kind.value,
        rec.ts,
        (g.platform, g.external_id, g.title),
        (a.platform, a.external_id, a.display_name, a.is_bot) if a is not None else None,
        (t.platform, t.external_id, t.display_name, t.is_bot) if t is not None else None,
        rec.payload,
    )


class _Unpacker:
    """Rebuilds events, sharing one ref object per distinct group/identity."""

    def __init__(self) -> None:
        self.groups: dict[Any, GroupRef] = {}
        self.idents: dict[Any, IdentityRef] = {}

    def ident(self, t: Any) -> IdentityRef | None:
        if t is None:
            return None
        ref = self.idents.get(t)
        if ref is None:
            ref = self.idents[t] = IdentityRef(*t)
        return ref

    def __call__(self, item: Any) -> Record:
        if not isinstance(item, tuple):
            return item  # type: ignore[no-any-return]
        source, seid, kind, ts, g, a, t, payload = item
        group = self.groups.get(g)
        if group is None:
            group = self.groups[g] = GroupRef(*g)
        return Event(source, seid, KINDS[kind], ts, group, self.ident(a), self.ident(t), payload)


KINDS = {k.value: k for k in Kind}


def _child(importer: Importer, path: Path, options: ImportOptions, q: Any) -> None:
    try:
        for sf in importer.files(path, options):
            q.put(("file", sf.label, sf.size))
            batch: list[Any] = []
            for rec in sf.records:
                batch.append(_pack(rec))
                if len(batch) >= RECORDS_PER_BATCH:
                    q.put(("records", batch, sf.position()))
                    batch = []
            q.put(("records", batch, sf.position()))
            q.put(("end", None, None))
        q.put(("done", None, None))
    except UserError as exc:
        q.put(("user_error", (type(exc).__name__, exc.message, exc.zh, exc.code), None))
    except BaseException as exc:
        q.put(("error", f"{type(exc).__name__}: {exc}", None))


class _Remote:
    """The parent's view of the child: SourceFiles whose records arrive by queue."""

    def __init__(self, q: Any, proc: Any) -> None:
        self.q = q
        self.proc = proc
        self.position = 0
        self.unpack = _Unpacker()

    def get(self) -> tuple[str, Any, Any]:
        while True:
            try:
                item: tuple[str, Any, Any] = self.q.get(timeout=1.0)
            except queue.Empty:
                if not self.proc.is_alive():
                    raise RuntimeError(
                        f"the import reader process died (exit code {self.proc.exitcode})"
                    ) from None
                continue
            tag, a, _ = item
            if tag == "user_error":
                name, message, zh, code = a
                cls = getattr(errors, name, UserError)
                if not (isinstance(cls, type) and issubclass(cls, UserError)):
                    cls = UserError
                raise cls(message, zh=zh, code=code)
            if tag == "error":
                raise RuntimeError(f"reading the export failed: {a}")
            return item

    def files(self) -> Iterator[SourceFile]:
        while True:
            tag, label, size = self.get()
            if tag == "done":
                return
            assert tag == "file", tag
            self.position = 0
            yield SourceFile(label, self._records(), size, lambda: self.position)

    def _records(self) -> Iterator[Record]:
        while True:
            tag, batch, pos = self.get()
            if tag == "end":
                return
            self.position = pos
            unpack = self.unpack
            for item in batch:
                yield unpack(item)


def files_in_child(importer: Importer, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
    """``importer.files(path, options)``, parsed in a child process."""
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    q = ctx.Queue(maxsize=MAX_BATCHES_IN_FLIGHT)
    proc = ctx.Process(target=_child, args=(importer, path, options, q), daemon=True)
    proc.start()
    try:
        yield from _Remote(q, proc).files()
        proc.join(timeout=10)
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
        q.close()
