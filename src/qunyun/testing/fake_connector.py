"""An in-process connector for tests of what sits above connectors (outbox, broadcasts).

It records every action it performs, can be told to fail the next calls in each of
the ways a platform fails, and declares limits like any connector. It is not a
platform fake: connector behaviour is tested against Synapse and the Bot API fake.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import ClassVar

from pydantic import BaseModel

from qunyun.connectors.base import (
    Action,
    Capability,
    CheckReport,
    Connector,
    DeliveryError,
    EventSink,
    Rate,
    RateLimits,
    Receipt,
    Unsupported,
)


class FakeSettings(BaseModel):
    pass


class FakeConnector(Connector):
    platform: ClassVar[str] = "fake"
    Settings: ClassVar[type[BaseModel]] = FakeSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SEND_TEXT, Capability.SEND_MARKDOWN, Capability.KICK, Capability.DELETE}
    )
    limits: ClassVar[RateLimits] = RateLimits(per_bot=(Rate(200, 1.0),), per_chat=(Rate(5, 1.0),))

    def __init__(self, name: str = "fake", *, idempotent: bool = False, delay: float = 0.0) -> None:
        super().__init__(name, FakeSettings())
        self.performed: list[tuple[float, Action]] = []
        self.failures: deque[DeliveryError] = deque()
        self.fail_chats: dict[str, deque[DeliveryError]] = {}
        self.delay = delay
        self.idempotent = idempotent

    @property
    def idempotent_sends(self) -> bool:  # type: ignore[override]
        return self.idempotent

    async def run(self, sink: EventSink) -> None:
        await asyncio.Event().wait()

    async def perform(self, action: Action) -> Receipt:
        if not self.supports(action):
            raise Unsupported(f"fake cannot {action.kind.value}", code="unsupported")
        if self.delay:
            await asyncio.sleep(self.delay)
        per_chat = self.fail_chats.get(action.chat)
        if per_chat:
            raise per_chat.popleft()
        if self.failures:
            raise self.failures.popleft()
        self.performed.append((time.time(), action))
        return Receipt(remote_id=f"m{len(self.performed)}")

    async def check(self) -> CheckReport:
        return CheckReport(ok=True, account="fake-bot")

    def sent_to(self, chat: str) -> list[Action]:
        return [a for _, a in self.performed if a.chat == chat]
