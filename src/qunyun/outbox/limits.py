"""Sliding-window rate limits kept in the store, shared by every worker.

Each limit is a bucket holding the times of the calls inside its window. A call is
allowed when every bucket it touches has room; the window is widened by
``margin`` (and a fixed slack for network jitter) so that calls which leave us
evenly still arrive within the platform's limits. Unlike a strictly paced
limiter, this allows the platform's bursts (a few replies in quick succession)
while never exceeding a window, the way Telegram counts.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection

from qunyun.connectors.base import Rate, RateLimits

MARGIN = 0.04  # widen every window by 4 %
SLACK = 0.05  # and by 50 ms of jitter


def buckets(connector: str, limits: RateLimits, chat: str, is_send: bool) -> list[tuple[str, Rate]]:
    """The buckets one action touches: the bot's always, the chat's for sends."""
    out = [(f"{connector}:bot:{i}", r) for i, r in enumerate(limits.per_bot)]
    if is_send:
        out += [(f"{connector}:chat:{chat}:{i}", r) for i, r in enumerate(limits.per_chat)]
        out += [(f"{connector}:group:{chat}:{i}", r) for i, r in enumerate(limits.per_group)]
    return out


class Window:
    """The buckets read in one claim transaction; written back by :meth:`save`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.loaded: dict[str, list[float]] = {}
        self.dirty: set[str] = set()

    def _get(self, name: str) -> list[float]:
        got = self.loaded.get(name)
        if got is None:
            ph = "%s" if self.pg else "?"
            lock = " FOR UPDATE" if self.pg else ""
            self.conn.exec_driver_sql(
                f"INSERT INTO rate_buckets (bucket, sent) VALUES ({ph}, '[]') "
                "ON CONFLICT (bucket) DO NOTHING",
                (name,),
            )
            row = self.conn.exec_driver_sql(
                f"SELECT sent FROM rate_buckets WHERE bucket = {ph}{lock}", (name,)
            ).scalar_one()
            got = self.loaded[name] = [float(t) for t in json.loads(row)]
        return got

    def earliest(self, touched: list[tuple[str, Rate]], now: float) -> float:
        """When a call touching these buckets may go (``now`` if it may go now)."""
        at = now
        for name, rate in touched:
            times = self._get(name)
            span = rate.per * (1 + MARGIN) + SLACK
            live = [t for t in times if t > now - span]
            if len(live) != len(times):
                times[:] = live
                self.dirty.add(name)
            if len(live) >= rate.count:
                at = max(at, live[-rate.count] + span)
        return at

    def take(self, touched: list[tuple[str, Rate]], now: float) -> None:
        for name, _ in touched:
            self._get(name).append(now)
            self.dirty.add(name)

    def save(self) -> None:
        ph = "%s" if self.pg else "?"
        if self.dirty:
            self.conn.exec_driver_sql(
                f"UPDATE rate_buckets SET sent = {ph} WHERE bucket = {ph}",
                [(json.dumps(self.loaded[n]), n) for n in sorted(self.dirty)],
            )
        self.dirty.clear()
