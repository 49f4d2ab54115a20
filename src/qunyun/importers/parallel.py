"""Run an importer in a child process, so parsing and storing use two cores.

Parsing (JSON/text → events) and writing (SQL, memberships, rollups) are both
CPU-bound Python; one process can only take turns between them. Here the child
parses, packs each event into the writer's own tuple shape (``store.ingest.Packer``:
UTC micros, payload as JSON text, what the derived tables need from the payload)
and ships records in batches through a bounded queue (so memory stays
flat: at most ``MAX_BATCHES_IN_FLIGHT`` batches wait) while the parent writes.
To the caller it looks like ``importer.files(path, options)``, with packed events.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qunyun import errors
from qunyun.errors import UserError
from qunyun.events import Event
from qunyun.importers.base import Importer, ImportOptions, Rejected
from qunyun.store.ingest import Packed, Packer

RECORDS_PER_BATCH = 2000
#: several writer transactions' worth (importing.BATCH_SIZE records), so the reader
#: keeps parsing while the writer commits; they wait pickled, ~0.3 MB a batch
MAX_BATCHES_IN_FLIGHT = 128
#: the reader's GIL switch interval, seconds (Python's default is 0.005)
SWITCH_INTERVAL = 0.0005


@dataclass
class PackedFile:
    """A :class:`SourceFile` whose events arrive already packed (see ``store.ingest.Packer``)."""

    label: str
    records: Iterator[Packed | Rejected]
    size: int | None
    position: Callable[[], int]


def _child(
    importer: Importer, path: Path, options: ImportOptions, pack: Packer, q: Any, parent: int
) -> None:
    # A writer killed outright (SIGKILL, OOM) neither reads the queue again nor
    # terminates this process, which would then wait forever on a full queue or on
    # flushing it at exit: leave as soon as the parent is gone.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # The queue's feeder thread writes to the pipe; under the default 5 ms switch
    # interval it waited that long for the GIL after every write while this thread
    # parsed, and the writer sat idle (a 1M-line import: 27 -> 19 s at 0.5 ms).
    sys.setswitchinterval(SWITCH_INTERVAL)
    put = q.put
    try:
        for sf in importer.files(path, options):
            put(("file", sf.label, sf.size))
            batch: list[Any] = []
            for rec in sf.records:
                batch.append(pack(rec) if isinstance(rec, Event) else rec)
                if len(batch) >= RECORDS_PER_BATCH:
                    put(("records", _dumps(batch), sf.position()))
                    batch = []
            put(("records", _dumps(batch), sf.position()))
            put(("end", None, None))
        put(("done", None, None))
    except UserError as exc:
        put(("user_error", (type(exc).__name__, exc.message, exc.zh, exc.code), None))
    except BaseException as exc:
        put(("error", f"{type(exc).__name__}: {exc}", None))


def _dumps(batch: list[Any]) -> bytes:
    """Pickled here, on the parsing thread: left to the queue's feeder thread, the
    pickling of each batch fought this thread for the GIL."""
    return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class _Remote:
    """The parent's view of the child: SourceFiles whose records arrive by queue."""

    def __init__(self, q: Any, proc: Any) -> None:
        self.q = q
        self.proc = proc
        self.position = 0

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

    def files(self) -> Iterator[PackedFile]:
        while True:
            tag, label, size = self.get()
            if tag == "done":
                return
            assert tag == "file", tag
            self.position = 0
            yield PackedFile(label, self._records(), size, lambda: self.position)

    def _records(self) -> Iterator[Packed | Rejected]:
        while True:
            tag, batch, pos = self.get()
            if tag == "end":
                return
            self.position = pos
            yield from pickle.loads(batch)


def _context() -> Any:
    """How to start the reader: fork from a command's main thread, else spawn.

    Forking copies only the calling thread, so a lock another thread holds at that
    moment stays locked in the child for good. A command (``qunyun import``, ``qunyun
    demo``, ``qunyun worker``) imports on its main thread, beside at most a progress
    bar's refresher, and forks at once. The console imports on a worker thread beside
    the web server's threads: there the reader starts in a fresh interpreter (spawn, a
    second or so against minutes of import).
    """
    main = threading.current_thread() is threading.main_thread()
    if main and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp.get_context("spawn")


def files_in_child(
    importer: Importer, path: Path, options: ImportOptions, pack: Packer | None = None
) -> Iterator[PackedFile]:
    """``importer.files(path, options)`` parsed in a child process, events packed by ``pack``."""
    ctx = _context()
    q = ctx.Queue(maxsize=MAX_BATCHES_IN_FLIGHT)
    args = (importer, path, options, pack or Packer(), q, os.getpid())
    proc = ctx.Process(target=_child, args=args, daemon=True)
    proc.start()
    try:
        yield from _Remote(q, proc).files()
        proc.join(timeout=10)
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
        q.close()
