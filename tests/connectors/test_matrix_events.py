"""Matrix event translation corners that a live room does not easily produce."""

from __future__ import annotations

from typing import Any

from qunyun.connectors.base import Capability
from qunyun.connectors.matrix import txn_id
from qunyun.connectors.matrix_events import strip_reply_fallback, translate
from qunyun.connectors.matrix_rights import rights
from qunyun.events import GroupRef, Kind

ROOM = GroupRef("matrix", "!r:hs")
BOT = "@bot:hs"


def member(sender: str, target: str, now: str, prev: str | None, **content: Any
           ) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": "m.room.member", "event_id": "$e", "sender": sender, "state_key": target,
        "origin_server_ts": 1_700_000_000_000, "content": {"membership": now, **content},
    }
    if prev:
        ev["unsigned"] = {"prev_content": {"membership": prev, "displayname": "Old"}}
    return ev


def kinds(ev: dict[str, Any]) -> list[tuple[Kind, str | None]]:
    return [(e.kind, e.payload.get("service")) for e in translate(ev, ROOM, lambda _: None, BOT)]


def test_membership_transitions() -> None:
    assert kinds(member("@a:hs", "@a:hs", "join", None)) == [(Kind.JOIN, None)]
    assert kinds(member("@a:hs", "@a:hs", "leave", "join")) == [(Kind.LEAVE, None)]
    assert kinds(member("@m:hs", "@a:hs", "leave", "join")) == [(Kind.KICK, None)]
    assert kinds(member("@m:hs", "@a:hs", "ban", "join")) == [(Kind.BAN, None), (Kind.KICK, "ban")]
    assert kinds(member("@m:hs", "@a:hs", "ban", "leave")) == [(Kind.BAN, None)]
    assert kinds(member("@m:hs", "@a:hs", "leave", "ban")) == [(Kind.UNBAN, None)]
    assert kinds(member("@a:hs", "@a:hs", "leave", "invite")) == [(Kind.SERVICE, "invite_declined")]
    assert kinds(member("@m:hs", "@a:hs", "leave", "invite")) == [(Kind.SERVICE, "invite_revoked")]
    assert kinds(member("@m:hs", "@a:hs", "invite", None)) == [(Kind.SERVICE, "invite")]
    # a profile change inside the room is a rename, an avatar change nothing
    (rename,) = translate(member("@a:hs", "@a:hs", "join", "join", displayname="New"),
                          ROOM, lambda _: None, BOT)
    assert rename.kind is Kind.RENAME and rename.payload == {"old_name": "Old", "new_name": "New"}
    assert kinds(member("@a:hs", "@a:hs", "join", "join", displayname="Old")) == []


def test_redaction_in_new_room_versions_names_the_event_in_content() -> None:
    ev = {"type": "m.room.redaction", "event_id": "$d", "sender": "@m:hs",
          "origin_server_ts": 1, "content": {"redacts": "$x", "reason": "spam"}}
    (e,) = translate(ev, ROOM, lambda _: None, BOT)
    assert e.kind is Kind.DELETE and e.payload == {"message_id": "$x", "reason": "spam"}


def test_reply_fallback_is_stripped_and_reply_kept() -> None:
    body = "> <@a:hs> the question\n> second line\n\nthe answer"
    assert strip_reply_fallback(body) == "the answer"
    assert strip_reply_fallback("> quoting is fine\nwithout a blank line") != "without a blank line"
    ev = {"type": "m.room.message", "event_id": "$m", "sender": "@b:hs", "origin_server_ts": 1,
          "content": {"msgtype": "m.text", "body": body,
                      "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}}
    (e,) = translate(ev, ROOM, lambda _: None, BOT)
    assert e.payload["text"] == "the answer" and e.payload["reply_to"] == "$q"


def test_unknown_event_types_are_not_counted() -> None:
    ev = {"type": "org.example.custom", "event_id": "$c", "sender": "@b:hs", "origin_server_ts": 1,
          "content": {}}
    assert translate(ev, ROOM, lambda _: None, BOT) == []


def test_power_levels_give_sentences_with_the_numbers() -> None:
    levels = {"users": {BOT: 40}, "kick": 30, "ban": 60, "redact": 50,
              "events": {"m.room.name": 40}}
    have, missing = rights(levels, BOT, "!r:hs", frozenset(Capability))
    assert Capability.KICK in have and Capability.SET_TITLE in have
    assert Capability.BAN not in have and Capability.SET_ANNOUNCEMENT not in have
    assert "the bot's power level 40 is below ban 60 in room !r:hs, so it cannot ban or unban" \
        in missing


def test_transaction_ids_are_path_safe_and_stable() -> None:
    assert txn_id("outbox-17") == "outbox-17"
    odd = txn_id("broadcast:12/!room:hs")
    assert odd == txn_id("broadcast:12/!room:hs") and odd.isalnum()
