"""The fake Bot API itself, over raw HTTP: wire format, error shapes, limits, polling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qunyun.testing.telegram_fake import FakeBotAPI, FakeLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeBotAPI]:
    with FakeBotAPI(token="42:secret", clock=clock) as api:
        yield api


def call(fake: FakeBotAPI, method: str, token: str = "42:secret", **params: Any) -> httpx.Response:
    return httpx.post(f"{fake.url}/bot{token}/{method}", json=params, timeout=5)


def test_token_method_and_success_shapes(fake: FakeBotAPI) -> None:
    r = call(fake, "getMe", token="42:wrong")
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    r = call(fake, "noSuchMethod")
    assert r.status_code == 404
    assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    r = call(fake, "GETME")  # method names are case-insensitive
    assert r.status_code == 200 and r.json()["ok"] is True
    assert r.json()["result"]["id"] == 42 and r.json()["result"]["is_bot"] is True
    # form-encoded parameters with JSON values, as python-telegram-bot sends them
    chat = fake.add_group("forms")
    r = httpx.post(f"{fake.url}/bot42:secret/sendMessage",
                   data={"chat_id": str(chat), "text": "hi",
                         "reply_markup": '{"inline_keyboard":[[{"text":"a","url":"https://x.org"}]]}'})
    assert r.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"


def test_rights_and_removal_errors(fake: FakeBotAPI) -> None:
    chat = fake.add_group("weak", bot_rights={"can_delete_messages"})
    uid = fake.user_joins(chat, "Ann")
    r = call(fake, "banChatMember", chat_id=chat, user_id=uid)
    assert r.status_code == 400
    assert r.json() == {"ok": False, "error_code": 400, "description":
                        "Bad Request: not enough rights to restrict/unrestrict chat member"}
    r = call(fake, "setChatTitle", chat_id=chat, title="new")
    assert r.json()["description"] == "Bad Request: not enough rights to change chat title"
    fake.remove_bot(chat)
    r = call(fake, "sendMessage", chat_id=chat, text="x")
    assert r.status_code == 403
    assert r.json() == {"ok": False, "error_code": 403,
                        "description": "Forbidden: bot was kicked from the supergroup chat"}
    r = call(fake, "sendMessage", chat_id=-5, text="x")
    assert r.json()["description"] == "Bad Request: chat not found"
    r = call(fake, "sendMessage", chat_id=fake.add_group("ok"), text="<b>x", parse_mode="HTML")
    assert r.json()["description"].startswith("Bad Request: can't parse entities")


def test_per_chat_limit_fires_on_the_second_send_and_frees_after_a_second(
    fake: FakeBotAPI, clock: Clock
) -> None:
    chat = fake.add_group("one per second")
    assert call(fake, "sendMessage", chat_id=chat, text="1").status_code == 200
    r = call(fake, "sendMessage", chat_id=chat, text="2")
    assert r.status_code == 429
    assert r.json() == {"ok": False, "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1}}
    clock.now += 1.0
    assert call(fake, "sendMessage", chat_id=chat, text="3").status_code == 200
    assert fake.count_429 == 1
    assert [m["text"] for m in fake.sent(chat)] == ["1", "3"]


def test_per_group_limit_is_20_a_minute(fake: FakeBotAPI, clock: Clock) -> None:
    chat = fake.add_group("twenty")
    for _ in range(20):
        assert call(fake, "sendMessage", chat_id=chat, text="x").status_code == 200
        clock.now += 1.0
    r = call(fake, "sendMessage", chat_id=chat, text="x")
    assert r.status_code == 429
    assert r.json()["parameters"]["retry_after"] == 40  # the first send leaves at t0 + 60
    clock.now += 40
    assert call(fake, "sendMessage", chat_id=chat, text="x").status_code == 200


def test_per_bot_limit_is_30_a_second(fake: FakeBotAPI) -> None:
    chats = [fake.add_group(f"g{i}") for i in range(31)]
    codes = [call(fake, "sendMessage", chat_id=c, text="x").status_code for c in chats]
    assert codes == [200] * 30 + [429]


def test_long_poll_waits_offset_confirms_and_second_poll_conflicts(fake: FakeBotAPI) -> None:
    chat = fake.add_group("poll")
    started = time.monotonic()
    r = call(fake, "getUpdates", timeout=1)
    assert r.json() == {"ok": True, "result": []} and time.monotonic() - started >= 0.9
    fake.user_says(chat, "Ann", "hello")
    first = call(fake, "getUpdates").json()["result"]
    assert first[0]["message"]["text"] == "hello"
    assert set(first[0]["message"]) >= {"message_id", "from", "chat", "date", "text"}
    again = call(fake, "getUpdates", offset=first[-1]["update_id"]).json()["result"]
    assert again == first, "not confirmed until an offset above it"
    assert call(fake, "getUpdates", offset=first[-1]["update_id"] + 1).json()["result"] == []
    r = call(fake, "setWebhook", url="http://127.0.0.1:9/x", secret_token="bad token!")
    assert r.json()["description"] == "Bad Request: secret token contains unallowed characters"


def test_chat_member_update_shape_with_named_link(fake: FakeBotAPI) -> None:
    chat = fake.add_group("links")
    call(fake, "getUpdates", allowed_updates=["chat_member", "message"])
    link = call(fake, "createChatInviteLink", chat_id=chat, name="fair",
                creates_join_request=False).json()["result"]
    assert link["name"] == "fair" and link["is_primary"] is False
    fake.user_joins(chat, "Bo", link="fair")
    updates = call(fake, "getUpdates").json()["result"]
    member = next(u["chat_member"] for u in updates if "chat_member" in u)
    assert member["invite_link"]["name"] == "fair"
    assert member["old_chat_member"]["status"] == "left"
    assert member["new_chat_member"]["status"] == "member"
    message = next(u["message"] for u in updates if "message" in u)
    assert message["new_chat_members"][0]["first_name"] == "Bo"


def test_faults(fake: FakeBotAPI) -> None:
    fake.fail_next(2, "5xx", status=502)
    assert call(fake, "getMe").status_code == 502
    assert call(fake, "getMe").json() == {"ok": False, "error_code": 502,
                                          "description": "Bad Gateway"}
    assert call(fake, "getMe").status_code == 200
    fake.hang_seconds = 5
    fake.fail_next(1, "hang")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{fake.url}/bot42:secret/getMe", timeout=0.3)
    assert [c.method for c in fake.calls][:3] == ["getMe"] * 3


def test_fast_enough_for_a_benchmark() -> None:
    with FakeBotAPI(limits=FakeLimits.off()) as fake:
        chat = fake.add_group("speed")
        with httpx.Client() as client:
            url = f"{fake.url}/bot{fake.token}/sendMessage"
            started = time.monotonic()
            for i in range(500):
                client.post(url, json={"chat_id": chat, "text": str(i)})
            elapsed = time.monotonic() - started
        assert len(fake.sent(chat)) == 500
        assert elapsed < 5, f"500 sends took {elapsed:.2f}s"
