"""A small in-process cache for computed metrics, keyed by the store's fill position.

Every event that arrives advances the rollup position (it is folded in the same
transaction), so the position says whether an answer was computed from the data
as it is now; checking costs one indexed read. Each worker process has its own
cache.

A group that is live (a bot connector, a stream of imports) moves the position
every few seconds, and recomputing an all-groups overview on each request would
cost a second each time. So an answer computed less than ``grace`` seconds ago
is still served when few events arrived since (at most a thousandth of the
store) and no import started or finished since: a live console lags by under a
minute, while an import's result shows as soon as it is done (every import,
from the CLI or the console, is recorded in the ``imports`` table). The
console's background thread refreshes the entries people open well before they
expire (:meth:`MetricCache.get` with ``refresh_after``), so requests rarely
compute.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select

from qunyun.analytics import rollups
from qunyun.store.schema import imports, rollup_state

T = TypeVar("T")

#: seconds an answer may trail a live stream
GRACE = 60.0
#: share of the store's events an answer may trail by
SLACK = 1 / 1000


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int  # rollup position the value was computed at
    imports: tuple[Any, ...]  # imports marker then (see _imports)
    at: float  # clock time it was computed
    value: Any


def _versions(conn: Connection) -> tuple[int, tuple[Any, ...]]:
    """The rollup position, and a marker that changes when an import starts or ends
    (one small row per import), read in one round trip."""
    s, i = rollup_state.c, imports.c
    position = select(s.position).where(s.name == rollups.NAME).scalar_subquery()
    pos, last_id, last_end = conn.execute(
        select(position, func.max(i.id), func.max(i.finished_at))
    ).one()
    return int(pos or 0), (last_id, last_end)


class MetricCache:
    def __init__(
        self,
        size: int = 256,
        grace: float = GRACE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.grace = grace
        self.clock = clock
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        conn: Connection,
        key: Hashable,
        compute: Callable[[], T],
        *,
        refresh_after: float | None = None,
    ) -> T:
        """The cached value of ``key`` if still good, else ``compute()`` (and keep it).

        ``refresh_after``: recompute a value whose data changed once it is this many
        seconds old, although it could still be served (for the warm-up thread,
        so that requests find values that have not expired).
        """
        version, marker = _versions(conn)
        now = self.clock()
        with self._lock:
            entry = self._items.get(key)
            if entry is not None and self._good(entry, version, marker, now, refresh_after):
                self._items.move_to_end(key)
                value: T = entry.value
                return value
        value = compute()
        with self._lock:
            self._items[key] = _Entry(version, marker, now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def _good(
        self,
        e: _Entry,
        version: int,
        marker: tuple[Any, ...],
        now: float,
        refresh_after: float | None,
    ) -> bool:
        if e.version == version:
            return True
        if e.imports != marker:
            return False
        limit = self.grace if refresh_after is None else min(self.grace, refresh_after)
        return now - e.at < limit and version - e.version <= e.version * SLACK
