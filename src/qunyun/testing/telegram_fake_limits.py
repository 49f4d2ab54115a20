"""Telegram's sending limits, enforced by the fake Bot API with sliding windows.

Telegram documents them only roughly (Bots FAQ): about 30 messages a second per
bot overall, no more than 20 messages a minute into one group, and about one
message a second into one chat. A send over any of them is answered with HTTP 429
and ``parameters.retry_after``. The fake applies exactly the numbers it is given
(these defaults), so a benchmark that passes against it would not be throttled
by these limits on the real service either.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FakeLimits:
    """At most ``*_count`` sends in any ``*_window`` seconds, per bot / group / chat.

    ``per_group`` applies to group and supergroup chats on top of ``per_chat``.
    A count of 0 turns that limit off.
    """

    per_bot_count: int = 30
    per_bot_window: float = 1.0
    per_group_count: int = 20
    per_group_window: float = 60.0
    per_chat_count: int = 1
    per_chat_window: float = 1.0

    @classmethod
    def off(cls) -> FakeLimits:
        """No limits: for tests about something else that send quickly into one chat."""
        return cls(0, 1.0, 0, 1.0, 0, 1.0)


class SlidingWindow:
    """Times of the accepted sends in the last ``window`` seconds."""

    __slots__ = ("count", "stamps", "window")

    def __init__(self, count: int, window: float) -> None:
        self.count = count
        self.window = window
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        """0 if a send may go now, else the seconds until the oldest one leaves the window."""
        if self.count <= 0:
            return 0.0
        stamps = self.stamps
        edge = now - self.window
        while stamps and stamps[0] <= edge:
            stamps.popleft()
        if len(stamps) < self.count:
            return 0.0
        return stamps[0] + self.window - now

    def add(self, now: float) -> None:
        if self.count > 0:
            self.stamps.append(now)


class Limiter:
    """All windows of one fake bot: one for the bot, one per chat and one per group."""

    def __init__(self, limits: FakeLimits) -> None:
        self.limits = limits
        self.bot = SlidingWindow(limits.per_bot_count, limits.per_bot_window)
        self.chats: dict[int, SlidingWindow] = {}
        self.groups: dict[int, SlidingWindow] = {}

    def check(self, chat_id: int, is_group: bool, now: float) -> int:
        """0 and the send counted, or the whole seconds to wait (``retry_after``, >= 1)."""
        lim = self.limits
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = SlidingWindow(lim.per_chat_count, lim.per_chat_window)
        windows = [chat, self.bot]
        if is_group:
            group = self.groups.get(chat_id)
            if group is None:
                group = self.groups[chat_id] = SlidingWindow(
                    lim.per_group_count, lim.per_group_window
                )
            windows.append(group)
        wait = max(w.wait(now) for w in windows)
        if wait > 0:
            return max(1, math.ceil(wait))
        for w in windows:
            w.add(now)
        return 0
