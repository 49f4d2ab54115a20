"""Matrix room events (the client-server API's JSON) to qunyun events.

Pure functions over the raw event dicts, so what a sync, a back-pagination or a
test hands in is translated the same way, and nio's event classes (which drop
fields they do not model) are not in the way. Conventions: platform ``"matrix"``,
group external id = room id, identity external id = the full mxid, source event
id = the Matrix event id — there is no Matrix importer yet, so an export importer
written later must use the same ids to merge with live events.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind, MsgType

PLATFORM = "matrix"

#: msgtype -> MsgType; m.notice and m.emote are text (the original is in extra)
MSGTYPES: dict[str, MsgType] = {
    "m.text": MsgType.TEXT,
    "m.notice": MsgType.TEXT,
    "m.emote": MsgType.TEXT,
    "m.image": MsgType.IMAGE,
    "m.file": MsgType.FILE,
    "m.video": MsgType.VIDEO,
    "m.audio": MsgType.VOICE,
    "m.location": MsgType.LOCATION,
}

_URL = re.compile(r"https?://[^\s<>\"')\]]+")

NameOf = Callable[[str], "str | None"]


def ts_of(ev: Mapping[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(ev.get("origin_server_ts", 0)) / 1000, tz=UTC)


def identity(mxid: str, name_of: NameOf, bot: str) -> IdentityRef:
    return IdentityRef(PLATFORM, mxid, name_of(mxid), is_bot=mxid == bot)


def prev_membership(ev: Mapping[str, Any]) -> str | None:
    """The member's membership before this event (Synapse sends it in ``unsigned``)."""
    unsigned = ev.get("unsigned") or {}
    prev = unsigned.get("prev_content") or ev.get("prev_content") or {}
    value = prev.get("membership")
    return str(value) if value else None


def translate(
    ev: Mapping[str, Any],
    group: GroupRef,
    name_of: NameOf,
    bot: str,
    *,
    inviter: str | None = None,
) -> list[Event]:
    """The qunyun events one Matrix event stands for (none for what we do not count).

    ``inviter`` is who invited the member of a join whose previous membership was
    an invite; the caller looks it up because it may need a request.
    """
    etype = ev.get("type")
    content = ev.get("content") or {}
    if "state_key" in ev:
        if etype == "m.room.member":
            return _member(ev, group, name_of, bot, inviter)
        return _state(ev, group, name_of, bot)
    if etype in ("m.room.message", "m.sticker"):
        return [_message(ev, group, name_of, bot)]
    if etype == "m.room.redaction":
        redacts = ev.get("redacts") or content.get("redacts")
        payload: dict[str, Any] = {"message_id": redacts}
        if content.get("reason"):
            payload["reason"] = content["reason"]
        return [_event(ev, Kind.DELETE, group, name_of, bot, payload)]
    if etype == "m.reaction":
        rel = content.get("m.relates_to") or {}
        if rel.get("rel_type") != "m.annotation":
            return []
        payload = {"message_id": rel.get("event_id"), "emoji": rel.get("key")}
        return [_event(ev, Kind.REACTION, group, name_of, bot, payload)]
    if etype == "m.room.encrypted":
        # The bot holds no keys: count the message, say why its text is missing.
        payload = {"type": MsgType.OTHER.value, "text": "", "extra": {"encrypted": True}}
        return [_event(ev, Kind.MESSAGE, group, name_of, bot, payload)]
    return []


def _event(
    ev: Mapping[str, Any],
    kind: Kind,
    group: GroupRef,
    name_of: NameOf,
    bot: str,
    payload: dict[str, Any],
    *,
    target: str | None = None,
    actor: str | None = None,
    suffix: str = "",
) -> Event:
    return Event(
        PLATFORM,
        str(ev["event_id"]) + suffix,
        kind,
        ts_of(ev),
        group,
        identity(actor or str(ev["sender"]), name_of, bot),
        identity(target, name_of, bot) if target else None,
        payload,
    )


def strip_reply_fallback(body: str) -> str:
    """Drop the ``> <@user> quoted`` lines a reply's plain body starts with."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i and i < len(lines) and lines[i] == "":
        return "\n".join(lines[i + 1:])
    return body  # the fallback always ends in a blank line; without it, it is the text


def _message(ev: Mapping[str, Any], group: GroupRef, name_of: NameOf, bot: str) -> Event:
    content = ev.get("content") or {}
    rel = content.get("m.relates_to") or {}
    if rel.get("rel_type") == "m.replace":
        new = content.get("m.new_content") or content
        payload: dict[str, Any] = {
            "message_id": rel.get("event_id"),
            "text": str(new.get("body", "")),
            "edited_at": ts_of(ev).isoformat(),
        }
        return _event(ev, Kind.EDIT, group, name_of, bot, payload)
    msgtype = str(content.get("msgtype", "")) if ev.get("type") != "m.sticker" else "m.sticker"
    body = str(content.get("body", ""))
    kind = MsgType.STICKER if msgtype == "m.sticker" else MSGTYPES.get(msgtype, MsgType.OTHER)
    reply_to = (rel.get("m.in_reply_to") or {}).get("event_id")
    payload = {"type": kind.value}
    if kind in (MsgType.TEXT, MsgType.OTHER):
        payload["text"] = strip_reply_fallback(body) if reply_to else body
    else:
        payload["media"] = body
        payload["text"] = ""
    if reply_to:
        payload["reply_to"] = reply_to
    if rel.get("rel_type") == "m.thread" and rel.get("event_id"):
        payload["thread"] = rel["event_id"]
    mentions = (content.get("m.mentions") or {}).get("user_ids")
    if mentions:
        payload["mentions"] = [str(m) for m in mentions]
    urls = _URL.findall(payload["text"])
    if urls:
        payload["urls"] = urls
    extra: dict[str, Any] = {}
    if msgtype not in ("m.text", "m.sticker"):
        extra["msgtype"] = msgtype
    if content.get("url"):
        extra["url"] = content["url"]
    if extra:
        payload["extra"] = extra
    return _event(ev, Kind.MESSAGE, group, name_of, bot, payload)


def _member(
    ev: Mapping[str, Any],
    group: GroupRef,
    name_of: NameOf,
    bot: str,
    inviter: str | None,
) -> list[Event]:
    content = ev.get("content") or {}
    member = str(ev["state_key"])
    sender = str(ev["sender"])
    now = content.get("membership")
    prev = prev_membership(ev)
    reason = content.get("reason")
    base: dict[str, Any] = {"reason": reason} if reason else {}

    def one(kind: Kind, payload: dict[str, Any], actor: str = sender, suffix: str = "") -> Event:
        return _event(ev, kind, group, name_of, bot, payload, target=member, actor=actor,
                      suffix=suffix)

    if now == "join":
        if prev == "join":
            old = (((ev.get("unsigned") or {}).get("prev_content")) or {}).get("displayname")
            new = content.get("displayname")
            if old == new:
                return []  # an avatar change
            return [one(Kind.RENAME, {"old_name": old, "new_name": new})]
        if prev == "invite" and inviter:
            return [one(Kind.JOIN, {"method": JoinMethod.INVITED_BY.value}, actor=inviter)]
        return [one(Kind.JOIN, {"method": JoinMethod.UNKNOWN.value, **base})]
    if now == "invite":
        return [one(Kind.SERVICE, {"service": "invite", **base})]
    if now == "knock":
        return [one(Kind.SERVICE, {"service": "knock", **base})]
    if now == "ban":
        events = [one(Kind.BAN, dict(base))]
        if prev == "join":
            # A ban removes a member too: its exit is its own event (events.py).
            events.append(one(Kind.KICK, {**base, "service": "ban"}, suffix="/exit"))
        return events
    if now == "leave":
        if sender == member:
            if prev == "join":
                return [one(Kind.LEAVE, dict(base))]
            service = {"invite": "invite_declined", "knock": "knock_withdrawn"}.get(
                prev or "", "leave"
            )
            return [one(Kind.SERVICE, {"service": service, **base})]
        if prev == "ban":
            return [one(Kind.UNBAN, dict(base))]
        if prev == "join":
            return [one(Kind.KICK, dict(base))]
        service = {"invite": "invite_revoked", "knock": "knock_rejected"}.get(prev or "", "leave")
        return [one(Kind.SERVICE, {"service": service, **base})]
    return []


def _state(ev: Mapping[str, Any], group: GroupRef, name_of: NameOf, bot: str) -> list[Event]:
    etype = str(ev.get("type"))
    content = ev.get("content") or {}
    if etype == "m.room.name":
        return [_event(ev, Kind.TITLE_CHANGE, group, name_of, bot,
                       {"title": str(content.get("name", ""))})]
    if etype == "m.room.topic":
        return [_event(ev, Kind.SERVICE, group, name_of, bot,
                       {"service": etype, "text": str(content.get("topic", ""))})]
    if etype == "m.room.power_levels":
        prev = ((ev.get("unsigned") or {}).get("prev_content")) or {}
        return [_event(ev, Kind.SERVICE, group, name_of, bot,
                       {"service": etype, "extra": power_changes(prev, content)})]
    if etype.startswith("m.room.") or etype.startswith("m.space."):
        return [_event(ev, Kind.SERVICE, group, name_of, bot,
                       {"service": etype, "extra": {"content": dict(content)}})]
    return []


def power_changes(prev: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, Any]:
    """Who went from which level to which, and which thresholds changed."""
    users_before = prev.get("users") or {}
    users_now = now.get("users") or {}
    default_before = int(prev.get("users_default", 0))
    default_now = int(now.get("users_default", 0))
    users = {
        u: [int(users_before.get(u, default_before)), int(users_now.get(u, default_now))]
        for u in sorted(set(users_before) | set(users_now))
        if int(users_before.get(u, default_before)) != int(users_now.get(u, default_now))
    }
    keys = ("ban", "kick", "redact", "invite", "events_default", "state_default", "users_default")
    thresholds = {k: [prev.get(k), now.get(k)] for k in keys if prev.get(k) != now.get(k)}
    return {"users": users, "thresholds": thresholds, "levels": dict(now)}
