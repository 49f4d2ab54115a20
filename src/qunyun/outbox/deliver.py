"""Claiming due rows within the limits, performing them, and recording the outcome.

A row moves ``queued → claimed → sending → sent`` (or back to ``queued`` with a
later ``not_before``, or to ``dead``). ``sending`` is committed just before the
platform call, so after a crash a ``claimed`` row is known not to have left and
is queued again, while a ``sending`` row's outcome is open: resent where the
connector's sends are idempotent (Matrix transaction ids), otherwise marked
``unknown`` for an operator to check and retry — never sent twice silently.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from qunyun import clock
from qunyun.analytics import rollups
from qunyun.connectors.base import (
    Action,
    ActionKind,
    Connector,
    DeliveryError,
    Refused,
    RetryLater,
)
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.jobs.queue import _alive, worker_name
from qunyun.outbox.limits import Window, buckets
from qunyun.store.ingest import Ingester
from qunyun.store.schema import outbox

log = logging.getLogger("qunyun.outbox")

MAX_ATTEMPTS = 8  # transient failures before a row becomes a dead letter
MAX_BACKOFF = 300.0
LEASE = timedelta(minutes=10)  # a claim older than this, from another host, is orphaned


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    action: Action
    attempts: int
    cause: str | None


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def claim(
    engine: Engine, connector: Connector, worker: str, *, limit: int = 20
) -> tuple[list[Claimed], float]:
    """Due rows of ``connector`` that the limits let go now, and when to look again."""
    now_dt = clock.now()
    now = now_dt.timestamp()
    o = outbox.c
    q = (
        select(o.id, o.key, o.chat, o.kind, o.action, o.attempts, o.cause)
        .where(o.connector == connector.name, o.status == "queued", o.not_before <= now_dt)
        .order_by(o.priority, o.not_before, o.id)
        .limit(limit * 5)
    )
    if engine.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    got: list[Claimed] = []
    wake = now + 1.0
    with engine.begin() as conn:
        window = Window(conn)
        deferred: list[tuple[int, float]] = []
        for r in conn.execute(q).all():
            touched = buckets(connector.name, connector.limits, r.chat, r.kind == "send")
            at = window.earliest(touched, now)
            if at > now:
                deferred.append((r.id, at))
                wake = min(wake, at)
                if all(name.split(":")[1] == "bot" for name, _ in touched) or len(got) >= limit:
                    break
                continue
            window.take(touched, now)
            got.append(Claimed(r.id, r.key, Action.from_json(r.action), r.attempts, r.cause))
            if len(got) >= limit:
                wake = now
                break
        window.save()
        for rid, at in deferred:
            # only this chat waits: its row is not looked at again before it may go
            conn.execute(update(outbox).where(o.id == rid).values(not_before=_ts(at)))
        if got:
            conn.execute(
                update(outbox)
                .where(o.id.in_([c.id for c in got]))
                .values(
                    status="claimed", claimed_by=worker, claimed_at=now_dt, attempts=o.attempts + 1
                )
            )
    return got, wake


def recover(engine: Engine, connectors: dict[str, Connector]) -> dict[str, int]:
    """Settle rows that a dead worker left claimed or sending; returns counts by outcome."""
    host = socket.gethostname() + ":"
    o = outbox.c
    old = clock.now() - LEASE
    out = {"requeued": 0, "unknown": 0}
    with engine.begin() as conn:
        rows = conn.execute(
            select(o.id, o.status, o.connector, o.claimed_by, o.claimed_at).where(
                o.status.in_(("claimed", "sending"))
            )
        ).all()
        for r in rows:
            who = r.claimed_by or ""
            if who.startswith(host):
                if _alive(who[len(host) :].split(":")[0]):
                    continue
            elif r.claimed_at is not None and r.claimed_at > old:
                continue
            c = connectors.get(r.connector)
            if r.status == "claimed" or (c is not None and c.idempotent_sends):
                values: dict[str, Any] = {"status": "queued", "claimed_by": None}
                out["requeued"] += 1
            else:
                values = {
                    "status": "unknown",
                    "error_code": "outcome_unknown",
                    "error": "the worker stopped while this was being sent; the platform "
                    "cannot tell whether it arrived — check the chat, then retry or cancel",
                }
                out["unknown"] += 1
            conn.execute(update(outbox).where(o.id == r.id).values(**values))
    return out


class Deliverer:
    """Delivers one connector's rows until cancelled (one asyncio task per connector)."""

    def __init__(
        self, engine: Engine, connector: Connector, *, parallel: int = 8, poll: float = 0.5
    ) -> None:
        self.engine = engine
        self.connector = connector
        self.worker = f"{worker_name()}:{connector.name}"
        self.parallel = parallel
        self.poll = poll
        self.paused_until = 0.0
        self._ingester = Ingester()
        self._rollups = rollups.Rollups()
        # the ingester's caches are not shared across threads' transactions
        self._write_lock = threading.Lock()
        self.delivered = 0

    async def run(self) -> None:
        sem = asyncio.Semaphore(self.parallel)
        tasks: set[asyncio.Task[None]] = set()
        while True:
            pause = self.paused_until - time.time()
            if pause > 0:
                await asyncio.sleep(pause)
            free = self.parallel - len(tasks)
            rows, wake = (
                ([], time.time() + 0.01)
                if free <= 0
                else await asyncio.to_thread(
                    claim, self.engine, self.connector, self.worker, limit=free
                )
            )
            for row in rows:
                await sem.acquire()
                t = asyncio.create_task(self._one(row, sem))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            if not rows:
                await asyncio.sleep(max(0.001, min(wake - time.time(), self.poll)))

    async def run_until_idle(self, timeout: float = 60.0) -> None:
        """Deliver until nothing is queued, held aside or in flight (tests, CLI)."""
        task = asyncio.create_task(self.run())
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                if not await asyncio.to_thread(self._pending):
                    return
            raise TimeoutError("outbox still busy")
        finally:
            task.cancel()

    def _pending(self) -> bool:
        o = outbox.c
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(o.id)
                    .where(
                        o.connector == self.connector.name,
                        o.status.in_(("queued", "claimed", "sending")),
                    )
                    .limit(1)
                ).first()
                is not None
            )

    async def _one(self, row: Claimed, sem: asyncio.Semaphore) -> None:
        try:
            await asyncio.to_thread(self._set, row.id, status="sending")
            try:
                receipt = await self.connector.perform(row.action)
            except DeliveryError as exc:
                await asyncio.to_thread(self._failed, row, exc)
                return
            except Exception as exc:  # a connector bug: transient, logged, retried
                log.exception("connector %s failed on outbox row %s", self.connector.name, row.id)
                await asyncio.to_thread(
                    self._failed, row, DeliveryError(repr(exc), code="internal")
                )
                return
            await asyncio.to_thread(self._sent, row, receipt.remote_id)
            self.delivered += 1
        finally:
            sem.release()

    def _set(self, rid: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == rid).values(**values))

    def _sent(self, row: Claimed, remote_id: str | None) -> None:
        now = clock.now()
        a = row.action
        platform = self.connector.platform
        ev = Event(
            "qunyun",
            f"outbox:{row.key}",
            Kind.SERVICE,
            now,
            GroupRef(platform, a.chat),
            None,
            IdentityRef(platform, a.target) if a.target else None,
            {
                "service": "qunyun_action",
                "extra": {
                    "action": a.kind.value,
                    "outbox_id": row.id,
                    "cause": row.cause,
                    "remote_id": remote_id,
                    "connector": self.connector.name,
                },
            },
        )
        with self._write_lock:
            self._record_sent(row, remote_id, now, ev)

    def _record_sent(self, row: Claimed, remote_id: str | None, now: datetime, ev: Event) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(
                        status="sent", remote_id=remote_id, sent_at=now, error=None, error_code=None
                    )
                )
                res = self._ingester.write(conn, [ev])
                if res.rows:
                    self._rollups.fold(conn, res.rows)
        except Exception:
            self._ingester.forget()
            raise

    def _failed(self, row: Claimed, exc: DeliveryError) -> None:
        now = time.time()
        values: dict[str, Any] = {"error": str(exc), "error_code": exc.code}
        if isinstance(exc, RetryLater):
            # a rate limit is not a failure: the attempt is given back
            values.update(
                status="queued",
                attempts=max(0, row.attempts - 1),
                not_before=_ts(now + exc.retry_after),
            )
            if exc.scope == "bot":
                self.paused_until = now + exc.retry_after
        elif isinstance(exc, Refused) or exc.permanent:
            values.update(status="dead")
        elif row.attempts + 1 >= MAX_ATTEMPTS:
            values.update(status="dead", error=f"gave up after {row.attempts + 1} tries: {exc}")
        else:
            back = min(MAX_BACKOFF, 2.0**row.attempts) * (0.5 + random.random() / 2)
            values.update(status="queued", not_before=_ts(now + back))
        log.warning(
            "outbox row %s (%s in %s): %s", row.id, row.action.kind.value, row.action.chat, exc
        )
        self._set(row.id, **values)


def is_moderation(kind: ActionKind) -> bool:
    return kind in (ActionKind.KICK, ActionKind.BAN, ActionKind.MUTE, ActionKind.DELETE)
