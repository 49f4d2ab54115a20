"""The background worker: runs queued jobs and keeps rollups current.

``qunyun serve`` runs one in a thread by default; ``qunyun worker`` runs it as its
own process (several can share one PostgreSQL store).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from qunyun.analytics import rollups
from qunyun.jobs import demo, imports, queue

log = logging.getLogger("qunyun.worker")

RUNNERS: dict[str, Callable[[Engine, queue.Job], None]] = {"import": imports.run, "demo": demo.run}
#: a lock id for rollup upkeep, so two workers on one PostgreSQL never fold twice
_ROLLUP_LOCK = 0x71756E79


class Worker:
    def __init__(
        self,
        engine: Engine,
        *,
        poll: float = 1.0,
        upkeep_every: float = 30.0,
        on_upkeep: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        #: called after each upkeep round (the console warms its caches there)
        self.on_upkeep = on_upkeep
        self.poll = poll
        self.upkeep_every = upkeep_every
        self.stop = threading.Event()
        self.name = queue.worker_name()

    def run(self) -> None:
        queue.requeue_orphans(self.engine)
        next_upkeep = 0.0
        while not self.stop.is_set():
            if time.monotonic() >= next_upkeep:
                self.upkeep()
                next_upkeep = time.monotonic() + self.upkeep_every
            if not self.step():
                self.stop.wait(self.poll)

    def step(self) -> bool:
        """Run one queued job; False when there was none."""
        job = queue.claim(self.engine, self.name)
        if job is None:
            return False
        log.info("job %s (%s) started", job.id, job.kind)
        try:
            RUNNERS[job.kind](self.engine, job)
        except Exception as exc:
            log.exception("job %s failed", job.id)
            queue.finish(self.engine, job.id, queue.FAILED, error=f"internal error: {exc!r}")
        return True

    def upkeep(self) -> None:
        """Fold events written without rollups (bulk loads, older versions), then warm up."""
        try:
            self._catch_up()
            if self.on_upkeep is not None:
                self.on_upkeep()
        except Exception:
            log.exception("upkeep failed")

    def _catch_up(self) -> None:
        if self.engine.dialect.name != "postgresql":
            rollups.catch_up(self.engine)  # SQLite's single writer serialises this
            return
        with self.engine.connect() as conn:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _ROLLUP_LOCK}
            ).scalar()
            conn.commit()
            if not got:
                return  # another worker is at it
            try:
                rollups.catch_up(self.engine)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ROLLUP_LOCK})
                conn.commit()

    def start_thread(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name="qunyun-worker", daemon=True)
        t.start()
        return t
