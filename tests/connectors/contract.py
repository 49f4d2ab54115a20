"""The contract every connector meets, run once per connector.

A connector's test module subclasses :class:`ConnectorContract` and provides two
fixtures: ``connector`` (a started-from-scratch instance configured against the
real server or the project's fake) and ``driver`` (a :class:`PlatformDriver`
acting as *other people* on that platform and reading what the platform saw).
The suite then checks the same behaviour on every platform: live events arrive
translated, committed positions survive a restart, actions reach the platform,
unsupported actions are refused up front, and errors are classified.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from qunyun.connectors.base import (
    Action,
    ActionKind,
    Capability,
    Connector,
    Unsupported,
)
from qunyun.events import Event, Kind


class PlatformDriver(Protocol):
    """Other people on the platform, and the platform's own view of a chat."""

    async def new_group(self, title: str) -> str:
        """A group where the bot is an admin; returns its chat id (GroupRef.external_id)."""

    async def join(self, chat: str, user: str) -> str:
        """``user`` (a name the driver maps to an account) joins; returns the account's id."""

    async def say(self, chat: str, user: str, text: str) -> None: ...

    async def leave(self, chat: str, user: str) -> None: ...

    async def bot_messages(self, chat: str) -> list[str]:
        """Texts the bot has sent in ``chat``, oldest first, as the platform holds them."""

    async def is_member(self, chat: str, user: str) -> bool: ...


@dataclass
class RecordingSink:
    """A sink that keeps what it was given, as the store would commit it."""

    events: list[Event] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(
        self, events: Sequence[Event], state: Mapping[str, str] | None = None
    ) -> None:
        self.events.extend(events)
        if state:
            self.state.update(state)
        self.changed.set()

    async def wait_for(self, pred: Any, timeout: float = 15.0) -> list[Event]:
        """Wait until ``pred(events)`` holds; returns the events."""
        async with asyncio.timeout(timeout):
            while not pred(self.events):
                self.changed.clear()
                await self.changed.wait()
        return self.events


@contextlib.asynccontextmanager
async def running(connector: Connector, sink: RecordingSink) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(connector.run(sink))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def texts(events: Sequence[Event], chat: str) -> list[str]:
    return [
        e.payload.get("text", "")
        for e in events
        if e.kind is Kind.MESSAGE and e.group.external_id == chat
    ]


class ConnectorContract:
    """Subclass with fixtures ``connector`` (a factory: ``state -> Connector``) and ``driver``."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.mark.anyio
    async def test_declares_itself(self, connector: Any) -> None:
        c: Connector = connector({})
        assert c.platform
        assert Capability.SEND_TEXT in c.capabilities
        assert c.limits.per_bot or c.limits.per_chat, "rate limits are data, even if generous"

    @pytest.mark.anyio
    async def test_join_message_leave_arrive_in_order(self, connector: Any, driver: Any) -> None:
        chat = await driver.new_group("contract 1")
        sink = RecordingSink()
        async with running(connector({}), sink):
            await asyncio.sleep(0.3)
            alice = await driver.join(chat, "alice")
            await driver.say(chat, "alice", "hello 你好")
            await driver.leave(chat, "alice")
            events = await sink.wait_for(
                lambda evs: any(e.kind is Kind.LEAVE and e.group.external_id == chat for e in evs)
            )
        mine = [e for e in events if e.group.external_id == chat]
        kinds = [e.kind for e in mine if e.kind in (Kind.JOIN, Kind.MESSAGE, Kind.LEAVE)]
        assert kinds[-3:] == [Kind.JOIN, Kind.MESSAGE, Kind.LEAVE]
        join = next(e for e in mine if e.kind is Kind.JOIN and e.target is not None
                    and e.target.external_id == alice)
        assert join.target is not None and join.target.platform == c_platform(connector)
        assert texts(mine, chat)[-1] == "hello 你好"
        ids = [(e.source, e.source_event_id) for e in events]
        assert len(ids) == len(set(ids)), "one event, one key"
        assert all(e.ts.tzinfo is not None for e in events)

    @pytest.mark.anyio
    async def test_restart_from_saved_state_neither_misses_nor_repeats(
        self, connector: Any, driver: Any
    ) -> None:
        chat = await driver.new_group("contract 2")
        await driver.join(chat, "bob")
        first = RecordingSink()
        async with running(connector({}), first):
            await driver.say(chat, "bob", "one")
            await first.wait_for(lambda evs: "one" in texts(evs, chat))
        # while the connector is down
        for i in range(5):
            await driver.say(chat, "bob", f"gap {i}")
        second = RecordingSink()
        async with running(connector(first.state), second):
            await driver.say(chat, "bob", "after")
            await second.wait_for(lambda evs: "after" in texts(evs, chat))
        got = texts(first.events, chat) + texts(second.events, chat)
        assert got.count("one") == 1
        assert [t for t in got if t.startswith("gap")] == [f"gap {i}" for i in range(5)]
        keys = [e.source_event_id for e in first.events + second.events]
        assert len(keys) == len(set(keys))

    @pytest.mark.anyio
    async def test_send_reaches_the_platform(self, connector: Any, driver: Any) -> None:
        chat = await driver.new_group("contract 3")
        c: Connector = connector({})
        send = Action(ActionKind.SEND, chat, key="k-send-1", text="欢迎 welcome")
        receipt = await c.perform(send)
        assert receipt.remote_id
        assert (await driver.bot_messages(chat))[-1] == "欢迎 welcome"
        await c.close()

    @pytest.mark.anyio
    async def test_kick_removes_the_member(self, connector: Any, driver: Any) -> None:
        c: Connector = connector({})
        if Capability.KICK not in c.capabilities:
            pytest.skip(f"{c.platform} cannot kick (declared)")
        chat = await driver.new_group("contract 4")
        carol = await driver.join(chat, "carol")
        await c.perform(Action(ActionKind.KICK, chat, key="k-kick-1", target=carol, reason="spam"))
        assert not await driver.is_member(chat, "carol")
        await c.close()

    @pytest.mark.anyio
    async def test_unsupported_action_is_refused(self, connector: Any) -> None:
        c: Connector = connector({})
        missing = [k for k in ActionKind if not c.supports(Action(k, "x", key="k"))]
        if not missing:
            pytest.skip("supports every action")
        with pytest.raises(Unsupported):
            await c.perform(Action(missing[0], "x", key="k-unsupported"))
        await c.close()


def c_platform(factory: Any) -> str:
    return str(factory({}).platform)
