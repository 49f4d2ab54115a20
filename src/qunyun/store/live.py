"""The live writer: events from connectors, committed in small group commits.

A live store receives events one at a time from many connectors. Committing each
on its own costs a WAL append and a sync per event, and SQLite's automatic
checkpoint then lands in whichever request happens to cross the threshold (a
50–180 ms stall). So one writer thread owns the store's write path: it takes
whatever arrived within a short window (``window`` seconds, at most
``max_events``), writes it — events, memberships, rollups and each connector's
position — in one transaction, and only then wakes every caller whose events were
in it. A caller therefore learns "committed" exactly when it is true: a webhook
answers 200 and a sync loop advances its token only for stored events.

Checkpoints run on a thread of their own (``PRAGMA wal_checkpoint(PASSIVE)``,
which never blocks the writer); the writer's connection has automatic
checkpoints turned off.

A batch that fails is retried caller by caller, so one malformed event fails its
own caller and no one else's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from qunyun import clock
from qunyun.analytics import rollups
from qunyun.connectors.base import EventSink
from qunyun.events import Event
from qunyun.store.ingest import Ingester, WriteResult
from qunyun.store.schema import to_micros

log = logging.getLogger("qunyun.live")

#: called in the writer thread after each commit with what was new (keep it quick)
CommitHook = Callable[[WriteResult], None]


@dataclass
class _Item:
    connector: str
    events: Sequence[Event]
    state: Mapping[str, str] | None
    done: concurrent.futures.Future[WriteResult]
    received: float = field(default_factory=time.perf_counter)


@dataclass
class LiveStats:
    """What the writer did; the benchmark and the console read it."""

    commits: int = 0
    events: int = 0
    new: int = 0
    failed_items: int = 0
    checkpoints: int = 0
    #: receipt-to-commit latency of each caller, seconds (last 10,000)
    latencies: list[float] = field(default_factory=list)


class LiveWriter:
    """Owns the live write path of one store; start it, hand out sinks, stop it."""

    def __init__(
        self,
        engine: Engine,
        *,
        window: float = 0.002,
        max_events: int = 2000,
        checkpoint_every: float = 1.0,
    ) -> None:
        self.engine = engine
        self.window = window
        self.max_events = max_events
        self.checkpoint_every = checkpoint_every
        self.stats = LiveStats()
        self.hooks: list[CommitHook] = []
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._ingester = Ingester(message_info=rollups.message_info)
        self._rollups = rollups.Rollups()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._names_due = 0.0

    # ------------------------------------------------------------------ callers

    def submit(
        self, connector: str, events: Sequence[Event], state: Mapping[str, str] | None = None
    ) -> concurrent.futures.Future[WriteResult]:
        """Queue ``events`` (and the connector's new position); the future ends at commit."""
        if not self._threads:
            raise RuntimeError("the live writer is not running (call start())")
        item = _Item(connector, events, state, concurrent.futures.Future())
        self._queue.put(item)
        return item.done

    def write(
        self, connector: str, events: Sequence[Event], state: Mapping[str, str] | None = None
    ) -> WriteResult:
        """:meth:`submit` and wait: for callers outside an event loop."""
        return self.submit(connector, events, state).result()

    def sink(self, connector: str) -> EventSink:
        """The :class:`EventSink` a connector named ``connector`` is given."""

        async def sink(events: Sequence[Event], state: Mapping[str, str] | None = None) -> None:
            if not events and not state:
                return
            await asyncio.wrap_future(self.submit(connector, events, state))

        return sink

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LiveWriter:
        if self._threads:
            return self
        self._stopping.clear()
        writer = threading.Thread(target=self._run, name="qunyun-live-writer", daemon=True)
        self._threads = [writer]
        if self.engine.dialect.name == "sqlite":
            self._threads.append(
                threading.Thread(target=self._checkpoints, name="qunyun-checkpoint", daemon=True)
            )
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the threads."""
        if not self._threads:
            return
        self._stopping.set()
        self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def __enter__(self) -> LiveWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                conn.commit()
            while True:
                first = self._queue.get()
                if first is None:
                    self._flush_names(conn)
                    return
                items = [first]
                n = len(first.events)
                get_nowait = self._queue.get_nowait
                deadline = time.perf_counter() + self.window
                stop = False
                while n < self.max_events:
                    left = deadline - time.perf_counter()
                    try:
                        nxt = self._queue.get(timeout=left) if left > 0 else get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    items.append(nxt)
                    n += len(nxt.events)
                self._commit(conn, items)
                if stop:
                    self._flush_names(conn)
                    return

    def _commit(self, conn: Connection, items: list[_Item]) -> None:
        try:
            res = self._write(conn, items)
        except Exception:
            conn.rollback()
            self._ingester.forget()
            if len(items) == 1:
                self.stats.failed_items += 1
                log.exception("live events from %s not stored", items[0].connector)
                items[0].done.set_exception(_wrapped())
                return
            for item in items:  # find the one that fails; the rest commit
                self._commit(conn, [item])
            return
        now = time.perf_counter()
        st = self.stats
        st.commits += 1
        st.events += sum(len(i.events) for i in items)
        st.new += res.new
        lat = st.latencies
        lat.extend(now - i.received for i in items)
        if len(lat) > 20_000:
            del lat[:10_000]
        for hook in self.hooks:
            try:
                hook(res)
            except Exception:
                log.exception("live commit hook failed")
        for item in items:
            item.done.set_result(res)

    def _write(self, conn: Connection, items: list[_Item]) -> WriteResult:
        batch = [ev for item in items for ev in item.events]
        res = self._ingester.write(conn, batch) if batch else WriteResult()
        if res.rows:
            self._rollups.fold(conn, res.rows)
        states = [
            (item.connector, k, v) for item in items if item.state for k, v in item.state.items()
        ]
        if states:
            save_state(conn, states)
        if time.monotonic() >= self._names_due:
            # names' times are kept in memory and written now and then (see Ingester)
            self._ingester.flush_name_times(conn)
            self._names_due = time.monotonic() + 5.0
        conn.commit()
        return res

    def _flush_names(self, conn: Connection) -> None:
        try:
            self._ingester.flush_name_times(conn)
            conn.commit()
        except Exception:
            conn.rollback()
            log.exception("display-name times not saved")

    # ------------------------------------------------------------------ checkpoints

    def _checkpoints(self) -> None:
        while not self._stopping.wait(self.checkpoint_every):
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                self.stats.checkpoints += 1
            except Exception:
                log.exception("checkpoint failed")


def save_state(conn: Connection, rows: Sequence[tuple[str, str, str]]) -> None:
    """Upsert (connector, key, value) rows of ``connector_state`` in ``conn``'s transaction."""
    pg = conn.dialect.name == "postgresql"
    ph = "%s" if pg else "?"
    now: object = clock.now() if pg else to_micros(clock.now())
    last: dict[tuple[str, str], str] = {}
    for connector, key, value in rows:
        last[(connector, key)] = value  # the newest of one batch wins
    conn.exec_driver_sql(
        f"INSERT INTO connector_state (connector, key, value, updated_at) "
        f"VALUES ({ph}, {ph}, {ph}, {ph}) ON CONFLICT (connector, key) "
        "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [(c, k, v, now) for (c, k), v in last.items()],
    )


def load_state(conn: Connection, connector: str) -> dict[str, str]:
    """A connector's saved position, as it last gave it to its sink."""
    ph = "%s" if conn.dialect.name == "postgresql" else "?"
    rows = conn.exec_driver_sql(
        f"SELECT key, value FROM connector_state WHERE connector = {ph}", (connector,)
    ).all()
    return {str(k): str(v) for k, v in rows}


class LiveWriteError(Exception):
    """Live events that could not be stored; the cause is chained."""


def _wrapped() -> LiveWriteError:
    import sys

    exc = sys.exc_info()[1]
    err = LiveWriteError(f"events not stored: {exc}")
    err.__cause__ = exc
    return err
