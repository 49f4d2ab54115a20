"""The Telegram connector against the project's fake Bot API, through python-telegram-bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from qunyun.connectors.base import (
    Action,
    ActionKind,
    Connector,
    InviteLinkSpec,
    Refused,
    RetryLater,
    Unreachable,
    WebhookRequest,
)
from qunyun.connectors.telegram import TelegramConnector, TelegramSettings
from qunyun.connectors.telegram_markup import markdown_to_html
from qunyun.events import JoinMethod, Kind
from qunyun.testing.loophttp import HttpRequest, HttpResponse, serve, server_url
from qunyun.testing.telegram_fake import FakeBotAPI, FakeLimits
from qunyun.testing.telegram_fake_model import parse_text
from tests.connectors.contract import ConnectorContract, RecordingSink, running

Factory = Callable[[dict[str, str]], TelegramConnector]


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    api = FakeBotAPI(limits=FakeLimits.off())
    api.start()
    yield api
    api.stop()


def make(fake: FakeBotAPI, **extra: Any) -> Factory:
    def factory(state: dict[str, str]) -> TelegramConnector:
        settings = TelegramSettings(token=fake.token, base_url=fake.url, poll_timeout=2, **extra)
        return TelegramConnector("tg", settings, state)

    return factory


class FakeDriver:
    """Other people on Telegram, played on the fake."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake

    async def new_group(self, title: str) -> str:
        return str(self.fake.add_group(title))

    async def join(self, chat: str, user: str) -> str:
        return str(self.fake.user_joins(int(chat), user))

    async def say(self, chat: str, user: str, text: str) -> None:
        self.fake.user_says(int(chat), user, text)

    async def leave(self, chat: str, user: str) -> None:
        self.fake.user_leaves(int(chat), user)

    async def bot_messages(self, chat: str) -> list[str]:
        return [m.get("text") or m.get("caption", "") for m in self.fake.sent(int(chat))]

    async def is_member(self, chat: str, user: str) -> bool:
        return self.fake.is_member(int(chat), user)


class TestTelegramContract(ConnectorContract):
    @pytest.fixture
    def connector(self, fake: FakeBotAPI) -> Factory:
        return make(fake)

    @pytest.fixture
    def driver(self, fake: FakeBotAPI) -> FakeDriver:
        return FakeDriver(fake)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def poll_once(c: TelegramConnector, sink: RecordingSink, pred: Any) -> list[Any]:
    async with running(c, sink):
        return await sink.wait_for(pred, timeout=10)


# --------------------------------------------------------------------------- receiving


@pytest.mark.anyio
async def test_named_invite_link_attributes_the_join(fake: FakeBotAPI) -> None:
    chat = fake.add_group("promo group")
    c = make(fake)({})
    receipt = await c.perform(Action(ActionKind.CREATE_INVITE_LINK, str(chat), key="l1",
                                     link=InviteLinkSpec("spring fair", member_limit=10)))
    assert receipt.remote_id and receipt.remote_id.startswith("https://t.me/+")
    link = fake.invite_links(chat)[0]
    assert link["name"] == "spring fair" and link["member_limit"] == 10
    sink = RecordingSink()
    async with running(c, sink):
        # Telegram sends chat_member only after a poll asked for it (allowed_updates)
        await asyncio.sleep(0.3)
        bob = fake.user_joins(chat, "Bob", link=receipt.remote_id)
        events = await sink.wait_for(lambda evs: any(e.kind is Kind.JOIN for e in evs))
    joins = [e for e in events if e.kind is Kind.JOIN]
    assert len(joins) == 1, "the service message and chat_member are one join"
    j = joins[0]
    assert j.target is not None and j.target.external_id == str(bob)
    assert j.payload["method"] == JoinMethod.INVITE_LINK.value
    assert j.payload["invite_link"] == "spring fair"
    await c.close()


@pytest.mark.anyio
async def test_added_by_member_and_join_request_approval(fake: FakeBotAPI) -> None:
    chat = fake.add_group("requests")
    alice = fake.user_joins(chat, "Alice")
    fake.user_joins(chat, "Carol", by="Alice")
    dan = fake.user_requests_join(chat, "Dan")
    c = make(fake)({})
    sink = RecordingSink()
    async with running(c, sink):
        await sink.wait_for(lambda evs: any(e.payload.get("service") == "join_request"
                                            for e in evs))
        await c.perform(Action(ActionKind.APPROVE_JOIN, str(chat), key="a", target=str(dan)))
        events = await sink.wait_for(lambda evs: any(
            e.kind is Kind.JOIN and e.target is not None and e.target.external_id == str(dan)
            for e in evs))
    carol = next(e for e in events if e.kind is Kind.JOIN and e.target is not None
                 and e.target.display_name == "Carol")
    assert carol.payload["method"] == "invited_by" and carol.actor is not None
    assert carol.actor.external_id == str(alice)
    request = next(e for e in events if e.payload.get("service") == "join_request")
    assert request.kind is Kind.SERVICE and request.target is not None
    dan_join = [e for e in events if e.kind is Kind.JOIN and e.target is not None
                and e.target.external_id == str(dan)]
    assert len(dan_join) == 1
    assert dan_join[0].payload["method"] == "approved"
    assert dan_join[0].actor is not None and dan_join[0].actor.external_id == str(fake.bot.id)
    assert fake.is_member(chat, "Dan")
    await c.close()


@pytest.mark.anyio
async def test_kick_by_admin_is_kick_and_ban_edit_reaction_title(fake: FakeBotAPI) -> None:
    chat = fake.add_group("moderated")
    c = make(fake)({})
    sink = RecordingSink()
    async with running(c, sink):
        await asyncio.sleep(0.3)  # the first poll asks for chat_member and reactions
        fake.user_joins(chat, "Eve")
        mid = fake.user_says(chat, "Eve", "first")
        fake.user_edits(chat, "Eve", mid, "first (edited)")
        fake.user_reacts(chat, "Owner 1000000001", mid, "👍")
        fake.admin_removes(chat, "Eve", ban=True)
        fake.admin_sets_title(chat, "moderated 2")
        events = await sink.wait_for(lambda evs: any(e.kind is Kind.TITLE_CHANGE for e in evs))
    kinds = [e.kind for e in events]
    assert kinds.count(Kind.KICK) == 1 and kinds.count(Kind.BAN) == 1
    edit = next(e for e in events if e.kind is Kind.EDIT)
    assert edit.payload["message_id"] == f"{chat}:{mid}"
    assert edit.source_event_id.startswith(f"{chat}:{mid}:edit:")
    reaction = next(e for e in events if e.kind is Kind.REACTION)
    assert reaction.payload["emoji"] == "👍"
    title = next(e for e in events if e.kind is Kind.TITLE_CHANGE)
    assert title.payload["title"] == "moderated 2"
    message = next(e for e in events if e.kind is Kind.MESSAGE)
    assert message.source_event_id == f"{chat}:{mid}", "the export's key"
    assert message.actor is not None and message.actor.external_id.isdigit()
    await c.close()


@pytest.mark.anyio
async def test_polling_restart_from_offset(fake: FakeBotAPI) -> None:
    chat = fake.add_group("restart")
    fake.user_joins(chat, "Fay")
    fake.user_says(chat, "Fay", "before")
    first = RecordingSink()
    await poll_once(make(fake)({}), first, lambda evs: "before" in [e.payload.get("text")
                                                                      for e in evs])
    offset = int(first.state["offset"])
    fake.user_says(chat, "Fay", "after")
    second = RecordingSink()
    events = await poll_once(make(fake)(first.state), second,
                             lambda evs: any(e.payload.get("text") == "after" for e in evs))
    assert [e.payload.get("text") for e in events if e.kind is Kind.MESSAGE] == ["after"]
    offsets = [c.params.get("offset") for c in fake.calls_to("getUpdates")]
    assert str(offset + 1) in offsets
    allowed = orjson.loads(fake.calls_to("getUpdates")[-1].params["allowed_updates"])
    assert {"chat_member", "my_chat_member", "chat_join_request", "message_reaction"} <= set(
        allowed)


# --------------------------------------------------------------------------- errors


@pytest.mark.anyio
async def test_429_is_retry_later_with_the_fakes_retry_after() -> None:
    with FakeBotAPI(limits=FakeLimits()) as fake:
        chat = fake.add_group("busy")
        c = make(fake)({})
        await c.perform(Action(ActionKind.SEND, str(chat), key="1", text="one"))
        with pytest.raises(RetryLater) as info:
            await c.perform(Action(ActionKind.SEND, str(chat), key="2", text="two"))
        assert info.value.retry_after == 1 and info.value.scope == "chat"
        fake.fail_next(1, "429", retry_after=7)
        with pytest.raises(RetryLater) as info:
            await c.perform(Action(ActionKind.SEND, str(fake.add_group("x")), key="3", text="t"))
        assert info.value.retry_after == 7
        assert fake.count_429 == 2
        await c.close()


@pytest.mark.anyio
async def test_missing_right_and_bot_removed_are_refused(fake: FakeBotAPI) -> None:
    weak = fake.add_group("no rights", bot_rights=set())
    gone = fake.add_group("gone")
    fake.user_joins(weak, "Gus")
    fake.remove_bot(gone)
    c = make(fake)({})
    with pytest.raises(Refused) as info:
        await c.perform(Action(ActionKind.KICK, str(weak), key="k", target=str(fake.user("Gus"))))
    assert info.value.code == "missing_right"
    with pytest.raises(Refused) as info:
        await c.perform(Action(ActionKind.SEND, str(gone), key="s", text="hi"))
    assert info.value.code == "bot_removed"
    report = await c.check()
    assert report.ok and report.account == "@qunyun_test_bot (123456789)"
    c2 = make(fake, chats=[str(weak), str(gone)])({})
    report = await c2.check()
    assert any("not an admin in group no rights" in p and "kick" in p for p in report.problems)
    assert any("removed" in p for p in report.problems)
    await c.close()
    await c2.close()


@pytest.mark.anyio
async def test_5xx_and_timeouts_are_unreachable(fake: FakeBotAPI) -> None:
    chat = fake.add_group("flaky")
    c = make(fake, request_timeout=0.5)({})
    await c.check()  # initialised before the faults
    fake.fail_next(1, "5xx", status=502)
    with pytest.raises(Unreachable):
        await c.perform(Action(ActionKind.SEND, str(chat), key="1", text="x"))
    fake.fail_next(1, "hang")
    with pytest.raises(Unreachable):
        await c.perform(Action(ActionKind.SEND, str(chat), key="2", text="x"))
    await c.close()


@pytest.mark.anyio
async def test_send_markdown_buttons_reply_photo_mute_title(fake: FakeBotAPI) -> None:
    chat = fake.add_group("features")
    hal = fake.user_joins(chat, "Hal")
    mid = fake.user_says(chat, "Hal", "question?")
    c = make(fake)({})
    r = await c.perform(Action(ActionKind.SEND, str(chat), key="m", format="markdown",
                               text="**Welcome** <new> & [rules](https://example.org/a?b=1&c=2)",
                               buttons=(("Rules", "https://example.org/rules"),),
                               reply_to=f"{chat}:{mid}"))
    sent = fake.sent(chat)[-1]
    assert sent["text"] == "Welcome <new> & rules"
    assert sent["reply_to_message"]["message_id"] == mid
    assert sent["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.org/rules"
    assert r.remote_id == str(sent["message_id"])
    await c.perform(Action(ActionKind.SEND, str(chat), key="p", image="https://example.org/x.png",
                           text="pic"))
    assert fake.sent(chat)[-1]["caption"] == "pic"
    await c.perform(Action(ActionKind.DELETE, str(chat), key="d", message_id=r.remote_id))
    assert all(m["message_id"] != sent["message_id"] for m in fake.sent(chat))
    await c.perform(Action(ActionKind.MUTE, str(chat), key="mu", target=str(hal), duration=3600))
    status = fake.status(chat, "Hal")
    assert status["status"] == "restricted" and not status["can_send_messages"]
    assert status["until_date"] > 0
    await c.perform(Action(ActionKind.SET_TITLE, str(chat), key="t", title="features 2"))
    assert fake.title(chat) == "features 2"
    await c.perform(Action(ActionKind.BAN, str(chat), key="b", target=str(hal)))
    assert fake.status(chat, "Hal")["status"] == "kicked"
    await c.perform(Action(ActionKind.UNBAN, str(chat), key="u", target=str(hal)))
    assert fake.status(chat, "Hal")["status"] == "left"
    await c.close()


def test_markdown_to_html_escapes_and_parses_back() -> None:
    html = markdown_to_html("a < b && *c* `x<y` snake_case_name ~~old~~")
    assert html == "a &lt; b &amp;&amp; <i>c</i> <code>x&lt;y</code> snake_case_name <s>old</s>"
    assert parse_text(html, "HTML") == "a < b && c x<y snake_case_name old"


# --------------------------------------------------------------------------- webhooks


def hook_request(body: bytes, secret: str | None = "s3cret",
                 ctype: str = "application/json") -> WebhookRequest:
    headers = {"content-type": ctype}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return WebhookRequest("POST", headers, {}, body, "127.0.0.1")


def update(uid: int, chat: int = -1001, mid: int = 5, text: str = "hi") -> bytes:
    return orjson.dumps({"update_id": uid, "message": {
        "message_id": mid, "date": 1_700_000_000, "text": text,
        "chat": {"id": chat, "type": "supergroup", "title": "G"},
        "from": {"id": 42, "is_bot": False, "first_name": "Ann"}}})


@pytest.mark.anyio
async def test_webhook_verifies_and_rejects(caplog: pytest.LogCaptureFixture) -> None:
    settings = TelegramSettings(token="1:x", mode="webhook", webhook_url="https://q.example/h",
                                secret_token="s3cret")
    c = TelegramConnector("tg", settings, {})
    sink = RecordingSink()
    caplog.set_level(logging.INFO, "qunyun.connectors.telegram")
    good = await c.webhook(hook_request(update(10)), sink)
    assert good.status == 200 and len(sink.events) == 1
    assert sink.events[0].source_event_id == "-1001:5" and sink.state == {"offset": "10"}
    cases = [
        (hook_request(update(11), secret="wrong"), 401, "wrong secret"),
        (hook_request(update(11), secret=None), 401, "missing secret"),
        (hook_request(update(10)), 200, "already stored"),
        (hook_request(update(12)[:-7]), 400, "malformed"),
        (hook_request(b"[1, 2]"), 400, "malformed"),
        (hook_request(update(13), ctype="text/plain"), 400, "not JSON"),
    ]
    for request, status, logged in cases:
        caplog.clear()
        resp = await c.webhook(request, sink)
        assert resp.status == status, logged
        assert logged in caplog.text
        assert len(sink.events) == 1, "nothing stored"
    ok = await c.webhook(hook_request(update(14, mid=6, text="later")), sink)
    assert ok.status == 200 and sink.events[-1].payload["text"] == "later"


@pytest.mark.anyio
async def test_fake_delivers_webhooks_with_secret_and_retries(fake: FakeBotAPI) -> None:
    chat = fake.add_group("hooked")
    sink = RecordingSink()
    answers: list[int] = [500]  # the first delivery fails: the fake must retry it
    holder: dict[str, Connector] = {}

    async def receive(req: HttpRequest) -> HttpResponse:
        if answers:
            return HttpResponse(answers.pop(), b"down")
        resp = await holder["c"].webhook(
            WebhookRequest(req.method, req.headers, {}, req.body, "127.0.0.1"), sink)
        return HttpResponse(resp.status, resp.body, resp.content_type)

    server = await serve(receive)
    try:
        fake.webhook_retry_delay = 0.05
        c = make(fake, mode="webhook", webhook_url=server_url(server) + "/hooks/tg",
                 secret_token="hook-secret_1")({})
        holder["c"] = c
        await c.run(sink)  # registers the webhook and returns
        mid = fake.user_says(chat, "Ivy", "via hook")
        events = await sink.wait_for(lambda evs: any(e.kind is Kind.MESSAGE for e in evs))
        assert events[-1].source_event_id == f"{chat}:{mid}"
        for _ in range(100):  # the fake records a delivery once the answer is read
            if any(d.status == 200 for d in fake.deliveries):
                break
            await asyncio.sleep(0.01)
        statuses = [d.status for d in fake.deliveries]
        assert statuses[0] == 500 and statuses[-1] == 200
        info_calls = fake.calls_to("setWebhook")
        assert info_calls[-1].params["secret_token"] == "hook-secret_1"
        await c.close()
    finally:
        server.close()
        await asyncio.sleep(0)
