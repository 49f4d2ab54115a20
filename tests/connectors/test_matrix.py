"""The Matrix connector against a real Synapse (one server for the session)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from qunyun.connectors import connector_class
from qunyun.connectors.base import (
    Action,
    ActionKind,
    Capability,
    Connector,
    Refused,
    RetryLater,
    Unreachable,
)
from qunyun.connectors.matrix import LAST, SINCE, MatrixConnector, MatrixSettings
from qunyun.events import Event, JoinMethod, Kind
from qunyun.testing.synapse import MatrixUser, SynapseServer
from tests.connectors.contract import ConnectorContract, RecordingSink, running, texts
from tests.connectors.matrix_driver import Accounts, SynapseDriver

Factory = Callable[..., MatrixConnector]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def accounts(synapse: SynapseServer) -> Accounts:
    return Accounts(synapse)


def settings_for(server: SynapseServer, user: MatrixUser, **extra: Any) -> MatrixSettings:
    return MatrixSettings(
        homeserver=server.url,
        user_id=user.user_id,
        access_token=user.access_token,
        device_id=user.device_id,
        sync_timeout=5,
        max_backoff=1.0,
        **extra,
    )


@pytest.fixture
async def connector(synapse: SynapseServer, accounts: Accounts) -> AsyncIterator[Factory]:
    made: list[Connector] = []

    def make(state: Mapping[str, str] | None = None, *, user: str = "qbot",
             **extra: Any) -> MatrixConnector:
        c = MatrixConnector("mx", settings_for(synapse, accounts(user), **extra), state)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.close()


@pytest.fixture
async def driver(synapse: SynapseServer, accounts: Accounts) -> AsyncIterator[SynapseDriver]:
    d = SynapseDriver(synapse, accounts)
    yield d
    await d.aclose()


def of_room(events: list[Event], chat: str) -> list[Event]:
    return [e for e in events if e.group.external_id == chat]


async def first_position(sink: RecordingSink, chat: str) -> None:
    await sink.wait_for(lambda _: SINCE in sink.state and LAST + chat in sink.state)


class TestMatrixContract(ConnectorContract):
    pass


@pytest.mark.anyio
async def test_registry_names_the_class() -> None:
    assert connector_class("matrix") is MatrixConnector


@pytest.mark.anyio
async def test_first_start_takes_the_position_without_history(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("no history")
    await driver.join(chat, "bob")
    await driver.say(chat, "bob", "old news")
    sink = RecordingSink()
    async with running(connector({}), sink):
        await first_position(sink, chat)
        await driver.say(chat, "bob", "fresh")
        await sink.wait_for(lambda evs: "fresh" in texts(evs, chat))
    assert texts(sink.events, chat) == ["fresh"]


@pytest.mark.anyio
async def test_gapped_sync_pages_back_every_message_once(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("gap")
    await driver.join(chat, "bob")
    first = RecordingSink()
    async with running(connector({}), first):
        await first_position(first, chat)
        await driver.say(chat, "bob", "before")
        await first.wait_for(lambda evs: "before" in texts(evs, chat))
    sent = [f"gap {i}" for i in range(320)]  # timeline_limit is 50: six pages behind
    for text in sent:
        await driver.say(chat, "bob", text)
    second = RecordingSink()
    async with running(connector(first.state), second):
        await driver.say(chat, "bob", "after")
        await second.wait_for(lambda evs: "after" in texts(evs, chat), timeout=60)
    assert texts(second.events, chat) == [*sent, "after"]
    assert texts(first.events, chat) == ["before"]
    ids = [e.source_event_id for e in first.events + second.events]
    assert len(ids) == len(set(ids))


@pytest.mark.anyio
async def test_homeserver_outage_is_survived_without_loss_or_repeat(
    connector: Factory, driver: SynapseDriver, synapse: SynapseServer
) -> None:
    chat = await driver.new_group("outage")
    await driver.join(chat, "bob")
    sink = RecordingSink()
    c = connector({})
    async with running(c, sink) as task:
        await first_position(sink, chat)
        for i in range(5):
            await driver.say(chat, "bob", f"pre {i}")
        await sink.wait_for(lambda evs: "pre 4" in texts(evs, chat))
        await asyncio.to_thread(synapse.stop)
        await asyncio.sleep(2.0)  # the loop meets refused connections meanwhile
        assert c.last_error is not None and not task.done()
        await asyncio.to_thread(synapse.start)
        for i in range(10):
            await driver.say(chat, "bob", f"post {i}")
        await sink.wait_for(lambda evs: "post 9" in texts(evs, chat), timeout=30)
        assert not task.done()
    assert texts(sink.events, chat) == [f"pre {i}" for i in range(5)] + [
        f"post {i}" for i in range(10)
    ]
    ids = [e.source_event_id for e in sink.events]
    assert len(ids) == len(set(ids))


@pytest.mark.anyio
async def test_same_send_key_twice_is_one_message(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("idempotent")
    once = Action(ActionKind.SEND, chat, key="outbox-17", text="only once")
    first = await connector({}).perform(once)
    again = await connector({}).perform(once)  # a new client, as after a crash
    other = await connector({}).perform(
        Action(ActionKind.SEND, chat, key="outbox-18", text="only once")
    )
    assert first.remote_id == again.remote_id != other.remote_id
    assert (await driver.bot_messages(chat)).count("only once") == 2  # keys 17 and 18
    assert MatrixConnector.idempotent_sends


@pytest.mark.anyio
async def test_markdown_reply_title_and_topic(connector: Factory, driver: SynapseDriver) -> None:
    chat = await driver.new_group("formatting")
    await driver.join(chat, "alice")
    question = await driver.say(chat, "alice", "how?")
    c = connector({})
    receipt = await c.perform(Action(ActionKind.SEND, chat, key="md-1", text="**like** this",
                                     format="markdown", reply_to=question))
    sent = next(e for e in await driver.messages(chat) if e["event_id"] == receipt.remote_id)
    assert sent["content"]["body"] == "**like** this"
    assert sent["content"]["formatted_body"] == "<p><strong>like</strong> this</p>"
    assert sent["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": question}}
    await c.perform(Action(ActionKind.SET_TITLE, chat, key="t-1", title="新名字"))
    await c.perform(Action(ActionKind.SET_ANNOUNCEMENT, chat, key="a-1", title="rules: be kind"))
    assert (await driver.get_state(chat, "owner", "m.room.name"))["name"] == "新名字"
    assert (await driver.get_state(chat, "owner", "m.room.topic"))["topic"] == "rules: be kind"


@pytest.mark.anyio
async def test_moderation_by_the_bot_and_by_admins_arrives_as_member_events(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("moderation")
    carol = await driver.join(chat, "carol")
    dave = await driver.join(chat, "dave")
    erin = await driver.join(chat, "erin")
    bot, owner = driver.mxid("qbot"), driver.mxid("owner")
    sink = RecordingSink()
    c = connector({})
    async with running(c, sink):
        await first_position(sink, chat)
        spam = await driver.say(chat, "dave", "buy now http://spam.example")
        deleted = await c.perform(Action(ActionKind.DELETE, chat, key="del-1", message_id=spam,
                                         reason="spam"))
        await c.perform(Action(ActionKind.KICK, chat, key="kick-1", target=carol, reason="rude"))
        await c.perform(Action(ActionKind.BAN, chat, key="ban-1", target=dave, reason="spam"))
        await c.perform(Action(ActionKind.UNBAN, chat, key="unban-1", target=dave))
        await driver.call("owner", "POST", f"/rooms/{chat}/kick", {"user_id": erin})
        events = await sink.wait_for(
            lambda evs: any(e.kind is Kind.KICK and e.target is not None
                            and e.target.external_id == erin for e in evs)
        )
    mine = of_room(events, chat)

    def one(kind: Kind, target: str) -> Event:
        (hit,) = [e for e in mine if e.kind is kind and e.target is not None
                  and e.target.external_id == target]
        return hit

    message = next(e for e in mine if e.kind is Kind.MESSAGE)
    assert message.payload["urls"] == ["http://spam.example"]
    delete = next(e for e in mine if e.kind is Kind.DELETE)
    assert delete.payload["message_id"] == spam and delete.source_event_id == deleted.remote_id
    assert delete.actor is not None and delete.actor.external_id == bot and delete.actor.is_bot
    kick = one(Kind.KICK, carol)
    assert kick.actor is not None and kick.actor.external_id == bot
    assert kick.payload["reason"] == "rude"
    ban = one(Kind.BAN, dave)
    assert ban.actor is not None and ban.actor.external_id == bot
    exit_ = one(Kind.KICK, dave)  # the ban removed a member: its exit is its own event
    assert exit_.source_event_id == ban.source_event_id + "/exit"
    unban = one(Kind.UNBAN, dave)
    assert unban.actor is not None and unban.actor.external_id == bot
    by_admin = one(Kind.KICK, erin)
    assert by_admin.actor is not None and by_admin.actor.external_id == owner
    assert not await driver.is_member(chat, "carol")
    assert await driver.membership(chat, "dave") == "leave"


@pytest.mark.anyio
async def test_low_power_bot_is_refused_and_check_says_why(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("weak bot", bot="weakbot", bot_level=0)
    carol = await driver.join(chat, "carol")
    weak = connector({}, user="weakbot")
    with pytest.raises(Refused) as refused:
        await weak.perform(Action(ActionKind.KICK, chat, key="k-weak", target=carol))
    assert refused.value.code == "forbidden"
    assert await driver.is_member(chat, "carol")
    report = await weak.check()
    assert report.ok and report.account == driver.mxid("weakbot")
    (group,) = [g for g in report.groups if g.chat == chat]
    assert group.title == "weak bot"
    assert Capability.SEND_TEXT in group.capabilities
    assert Capability.KICK not in group.capabilities
    assert (f"the bot's power level 0 is below kick 50 in room {chat}, so it cannot kick"
            in group.missing)
    strong_chat = await driver.new_group("strong")
    (strong,) = [g for g in (await connector({}).check()).groups if g.chat == strong_chat]
    assert Capability.KICK in strong.capabilities and Capability.BAN in strong.capabilities
    assert not [m for m in strong.missing if "kick" in m]


@pytest.mark.anyio
async def test_edits_reactions_names_and_power_levels_translate(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("translation")
    alice = await driver.join(chat, "alice")
    await driver.join(chat, "bob")
    sink = RecordingSink()
    async with running(connector({}), sink):
        await first_position(sink, chat)
        original = await driver.say(chat, "alice", "helo")
        await driver.send(chat, "alice", "m.room.message", {
            "msgtype": "m.text", "body": "* hello",
            "m.new_content": {"msgtype": "m.text", "body": "hello"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original},
        })
        await driver.send(chat, "bob", "m.reaction", {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": original, "key": "👍"}})
        await driver.send(chat, "bob", "m.room.message", {"msgtype": "m.notice", "body": "fyi"})
        await driver.send(chat, "bob", "m.room.message", {
            "msgtype": "m.image", "body": "cat.png", "url": "mxc://localhost/abc"})
        await driver.put_state(chat, "owner", "m.room.name", {"name": "新标题"})
        levels = await driver.get_state(chat, "owner", "m.room.power_levels")
        levels["users"][alice] = 10
        await driver.put_state(chat, "owner", "m.room.power_levels", levels)
        events = await sink.wait_for(
            lambda evs: any(e.kind is Kind.SERVICE for e in of_room(evs, chat)))
    mine = of_room(events, chat)
    (edit,) = [e for e in mine if e.kind is Kind.EDIT]
    assert edit.payload["message_id"] == original and edit.payload["text"] == "hello"
    (reaction,) = [e for e in mine if e.kind is Kind.REACTION]
    assert reaction.payload == {"message_id": original, "emoji": "👍"}
    notice, image = [e for e in mine if e.kind is Kind.MESSAGE][1:]
    assert notice.payload["text"] == "fyi" and notice.payload["extra"]["msgtype"] == "m.notice"
    assert image.payload["type"] == "image" and image.payload["media"] == "cat.png"
    (title,) = [e for e in mine if e.kind is Kind.TITLE_CHANGE]
    assert title.payload["title"] == "新标题"
    assert title.actor is not None and title.actor.external_id == driver.mxid("owner")
    (power,) = [e for e in mine if e.kind is Kind.SERVICE]
    assert power.payload["service"] == "m.room.power_levels"
    assert power.payload["extra"]["users"] == {alice: [0, 10]}


@pytest.mark.anyio
async def test_invited_join_names_the_inviter_even_after_a_restart(
    connector: Factory, driver: SynapseDriver
) -> None:
    chat = await driver.new_group("invites")
    frank, grace = driver.mxid("frank"), driver.mxid("grace")
    owner = driver.mxid("owner")
    first = RecordingSink()
    async with running(connector({}), first):
        await first_position(first, chat)
        await driver.call("owner", "POST", f"/rooms/{chat}/invite", {"user_id": frank})
        await driver.call("owner", "POST", f"/rooms/{chat}/invite", {"user_id": grace})
        await driver.join(chat, "frank")
        await first.wait_for(lambda evs: any(e.kind is Kind.JOIN for e in of_room(evs, chat)))
    second = RecordingSink()  # a fresh process: the invite is not remembered, but read back
    async with running(connector(first.state), second):
        await driver.join(chat, "grace")
        await driver.join(chat, "henry")  # a public room: no invite
        await second.wait_for(lambda evs: len([e for e in of_room(evs, chat)
                                               if e.kind is Kind.JOIN]) == 2)
    invites = [e for e in of_room(first.events, chat) if e.kind is Kind.SERVICE]
    assert [(e.payload["service"], e.target and e.target.external_id) for e in invites] == [
        ("invite", frank), ("invite", grace)]
    joins = [e for e in of_room(first.events + second.events, chat) if e.kind is Kind.JOIN]
    assert [(e.target and e.target.external_id, e.actor and e.actor.external_id,
             e.payload["method"]) for e in joins] == [
        (frank, owner, JoinMethod.INVITED_BY.value),
        (grace, owner, JoinMethod.INVITED_BY.value),
        (driver.mxid("henry"), driver.mxid("henry"), JoinMethod.UNKNOWN.value),
    ]


@pytest.mark.anyio
async def test_auto_join_accepts_invites(connector: Factory, driver: SynapseDriver) -> None:
    room = await driver.call("owner", "POST", "/createRoom", {"name": "invite the bot"})
    chat = str(room["room_id"])
    sink = RecordingSink()
    async with running(connector({}, user="joiner", auto_join=True), sink):
        await sink.wait_for(lambda _: SINCE in sink.state)
        await driver.call("owner", "POST", f"/rooms/{chat}/invite",
                          {"user_id": driver.mxid("joiner")})
        for _ in range(100):
            if await driver.membership(chat, "joiner") == "join":
                break
            await asyncio.sleep(0.1)
        await driver.say(chat, "owner", "welcome, bot")
        await sink.wait_for(lambda evs: "welcome, bot" in texts(evs, chat))
    join = next(e for e in of_room(sink.events, chat) if e.kind is Kind.JOIN)
    assert join.target is not None and join.target.is_bot
    assert join.actor is not None and join.actor.external_id == driver.mxid("owner")


@pytest.mark.anyio
async def test_rate_limit_is_retry_later(
    connector: Factory, driver: SynapseDriver, synapse: SynapseServer, accounts: Accounts
) -> None:
    chat = await driver.new_group("slow", bot="slowbot")
    admin = accounts("admin", admin=True)
    slow = driver.mxid("slowbot")
    r = await driver.http.post(
        f"{synapse.url}/_synapse/admin/v1/users/{slow}/override_ratelimit",
        json={"messages_per_second": 1, "burst_count": 1},
        headers={"Authorization": f"Bearer {admin.access_token}"},
    )
    assert r.status_code == 200, r.text
    c = connector({}, user="slowbot")
    with pytest.raises(RetryLater) as limited:
        for i in range(5):
            await c.perform(Action(ActionKind.SEND, chat, key=f"slow-{i}", text=f"s{i}"))
    assert 0 < limited.value.retry_after <= 2 and limited.value.scope == "bot"


@pytest.mark.anyio
async def test_homeserver_down_is_unreachable() -> None:
    from qunyun.testing.synapse import free_port

    c = MatrixConnector("mx", MatrixSettings(homeserver=f"http://127.0.0.1:{free_port()}",
                                             user_id="@bot:localhost", access_token="x"))
    with pytest.raises(Unreachable):
        await c.perform(Action(ActionKind.SEND, "!room:localhost", key="k", text="hi"))
    report = await c.check()
    assert not report.ok and "unreachable" in report.problems[0]
    await c.close()


def test_settings_need_a_credential() -> None:
    with pytest.raises(ValueError, match="access_token"):
        MatrixSettings(homeserver="http://x", user_id="@bot:x")
