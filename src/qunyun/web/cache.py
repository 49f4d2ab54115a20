"""A small in-process cache for computed metrics, keyed by the store's fill position.

Every event that arrives advances the rollup position (it is folded in the same
transaction), so a cached answer is served only while nothing new has been
written; checking costs one indexed read. Each worker process has its own cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Connection

from qunyun.analytics import rollups

T = TypeVar("T")


class MetricCache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn: Connection, key: Hashable, compute: Callable[[], T]) -> T:
        version = rollups.position(conn)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == version:
                self._items.move_to_end(key)
                value: T = hit[1]
                return value
        value = compute()
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
