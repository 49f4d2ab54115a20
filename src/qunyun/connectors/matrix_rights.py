"""What a power-levels event lets the bot do, in capabilities and plain sentences.

Matrix has no "admin" flag: every right is a threshold in the room's
``m.room.power_levels`` (defaults from the spec when a key is absent), and the bot
may act when its own level reaches it. ``check()`` reports each missing right as a
sentence an operator can act on ("raise the bot to 50 in this room").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qunyun.connectors.base import Capability

#: spec defaults when the power-levels event lacks a key
_DEFAULTS = {"kick": 50, "ban": 50, "redact": 50, "state_default": 50, "events_default": 0}


def level_of(levels: Mapping[str, Any], user: str) -> int:
    users = levels.get("users") or {}
    return int(users.get(user, levels.get("users_default", 0)))


def needed_for(levels: Mapping[str, Any]) -> dict[Capability, tuple[str, int]]:
    """Per capability: the threshold's name (as the sentence says it) and its level."""
    events = levels.get("events") or {}

    def get(key: str) -> int:
        return int(levels.get(key, _DEFAULTS[key]))

    def event(etype: str, state: bool) -> int:
        default = get("state_default") if state else get("events_default")
        return int(events.get(etype, default))

    send = event("m.room.message", False)
    return {
        Capability.SEND_TEXT: ("sending messages", send),
        Capability.SEND_MARKDOWN: ("sending messages", send),
        Capability.REPLY: ("sending messages", send),
        Capability.DELETE: ("redact", get("redact")),
        Capability.KICK: ("kick", get("kick")),
        Capability.BAN: ("ban", get("ban")),
        Capability.UNBAN: ("ban", get("ban")),  # unbanning needs the ban level
        Capability.SET_TITLE: ("m.room.name", event("m.room.name", True)),
        Capability.SET_ANNOUNCEMENT: ("m.room.topic", event("m.room.topic", True)),
    }


_VERB = {
    Capability.SEND_TEXT: "send messages",
    Capability.DELETE: "delete (redact) other people's messages",
    Capability.KICK: "kick",
    Capability.BAN: "ban or unban",
    Capability.SET_TITLE: "change the room name",
    Capability.SET_ANNOUNCEMENT: "change the topic",
}


def rights(
    levels: Mapping[str, Any], bot: str, room: str, offered: frozenset[Capability]
) -> tuple[frozenset[Capability], tuple[str, ...]]:
    """The capabilities the bot has in ``room`` and a sentence per missing right."""
    mine = level_of(levels, bot)
    have: set[Capability] = set()
    missing: list[str] = []
    for cap, (what, need) in needed_for(levels).items():
        if cap not in offered:
            continue
        if mine >= need:
            have.add(cap)
        elif cap in _VERB:
            missing.append(
                f"the bot's power level {mine} is below {what} {need} in room {room}, "
                f"so it cannot {_VERB[cap]}"
            )
    return frozenset(have), tuple(missing)
