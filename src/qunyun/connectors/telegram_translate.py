"""Bot API updates (raw JSON dicts) → events, with the importer's ids.

Ids match :mod:`qunyun.importers.telegram_records` so that a message received
live and later imported from a Telegram Desktop export is one event: platform
``telegram``, chats in Bot API form (``-100…``), users as their plain number,
messages ``"<chat>:<message_id>"``, edits ``"<chat>:<id>:edit:<unix time>"``,
reactions ``"<chat>:<id>:reaction:<user>:<emoji>"``, title changes ``"<chat>:<id>"``.

Membership changes are reported twice by Telegram — a service ``message``
(``new_chat_members`` / ``left_chat_member``) and a ``chat_member`` update — and
neither carries the other's id. Both are keyed by what they share,
``"<chat>:join:<user>:<date>"`` (``exit``, ``ban``, ``unban``, ``mute`` likewise), so
the store keeps one; within a batch the ``chat_member`` version wins, because only
it carries the invite link and the approver. A join seen live and the same join in
an export (keyed by the export's message id) remain two events: a known gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind, MsgType

PLATFORM = "telegram"

_PRESENT = frozenset({"creator", "administrator", "member"})

_MEDIA = (
    ("photo", MsgType.IMAGE),
    ("sticker", MsgType.STICKER),
    ("video", MsgType.VIDEO),
    ("animation", MsgType.VIDEO),
    ("video_note", MsgType.VIDEO),
    ("voice", MsgType.VOICE),
    ("audio", MsgType.FILE),
    ("document", MsgType.FILE),
    ("poll", MsgType.POLL),
    ("location", MsgType.LOCATION),
    ("venue", MsgType.LOCATION),
    ("contact", MsgType.CONTACT),
)
_SERVICE_FIELDS = (
    "group_chat_created",
    "supergroup_chat_created",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "new_chat_photo",
    "delete_chat_photo",
    "message_auto_delete_timer_changed",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_scheduled",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "write_access_allowed",
    "boost_added",
)


def ts(unix: object) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)  # type: ignore[call-overload]


def group(chat: dict[str, Any]) -> GroupRef:
    title = chat.get("title")
    return GroupRef(PLATFORM, str(chat["id"]), title if isinstance(title, str) else None)


def identity(user: dict[str, Any] | None) -> IdentityRef | None:
    if not user:
        return None
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p) or None
    return IdentityRef(PLATFORM, str(user["id"]), name, bool(user.get("is_bot")))


def _sender(msg: dict[str, Any]) -> IdentityRef | None:
    """The author; an anonymous admin or a channel posts as ``sender_chat``."""
    if msg.get("sender_chat"):
        chat = msg["sender_chat"]
        return IdentityRef(PLATFORM, str(chat["id"]), chat.get("title"))
    return identity(msg.get("from"))


def translate(update: dict[str, Any]) -> list[Event]:
    """The events of one update (none for update types qunyun does not track)."""
    if "message" in update:
        return _message(update["message"])
    if "edited_message" in update:
        return _edit(update["edited_message"])
    if "chat_member" in update:
        return _chat_member(update["chat_member"])
    if "my_chat_member" in update:
        return _my_chat_member(update["my_chat_member"])
    if "chat_join_request" in update:
        return [_join_request(update["chat_join_request"])]
    if "message_reaction" in update:
        return _reaction(update["message_reaction"])
    return []


def translate_batch(updates: Iterable[dict[str, Any]]) -> list[Event]:
    """All events of a batch, one per key; a ``chat_member`` version replaces a
    service message's in place (it knows the link and the approver)."""
    out: list[Event] = []
    where: dict[str, int] = {}
    for update in updates:
        preferred = "chat_member" in update
        for event in translate(update):
            at = where.get(event.source_event_id)
            if at is None:
                where[event.source_event_id] = len(out)
                out.append(event)
            elif preferred:
                out[at] = event
    return out


# --------------------------------------------------------------------------- messages


def _sid(chat: dict[str, Any], *parts: object) -> str:
    return ":".join([str(chat["id"]), *(str(p) for p in parts)])


def _message(msg: dict[str, Any]) -> list[Event]:
    chat = msg["chat"]
    g = group(chat)
    when = ts(msg["date"])
    actor = _sender(msg)
    mid = msg["message_id"]
    if msg.get("new_chat_members"):
        return [_member_join(chat, when, actor, identity(m), msg) for m in msg["new_chat_members"]]
    if msg.get("left_chat_member"):
        target = identity(msg["left_chat_member"])
        assert target is not None
        kind = Kind.LEAVE if actor is None or actor.external_id == target.external_id else Kind.KICK
        return [Event(PLATFORM, _sid(chat, "exit", target.external_id, msg["date"]), kind, when,
                      g, actor or target, target, {"service": "left_chat_member"})]
    if "new_chat_title" in msg:
        return [Event(PLATFORM, _sid(chat, mid), Kind.TITLE_CHANGE, when, g, actor,
                      payload={"title": msg["new_chat_title"], "service": "edit_group_title"})]
    if "pinned_message" in msg:
        pinned = msg["pinned_message"].get("message_id")
        return [Event(PLATFORM, _sid(chat, mid), Kind.PIN, when, g, actor,
                      payload={"service": "pin_message", "message_id": _sid(chat, pinned)})]
    for key in _SERVICE_FIELDS:
        if key in msg:
            return [Event(PLATFORM, _sid(chat, mid), Kind.SERVICE, when, g, actor,
                          payload={"service": key, "extra": {key: msg[key]}})]
    return [Event(PLATFORM, _sid(chat, mid), Kind.MESSAGE, when, g, actor, None,
                  message_payload(msg))]


def message_payload(msg: dict[str, Any]) -> dict[str, Any]:
    chat = msg["chat"]
    text = msg.get("text") if "text" in msg else msg.get("caption")
    payload: dict[str, Any] = {"type": _msg_type(msg).value}
    if text:
        payload["text"] = text
    entities = msg.get("entities") or msg.get("caption_entities") or []
    urls, mentions = _entities(text or "", entities)
    if urls:
        payload["urls"] = urls
    if mentions:
        payload["mentions"] = mentions
    thread = msg.get("message_thread_id") if msg.get("is_topic_message") else None
    reply = msg.get("reply_to_message")
    if thread is not None:
        payload["thread"] = _sid(chat, thread)
    if reply and (thread is None or reply.get("message_id") != thread):
        payload["reply_to"] = _sid(reply.get("chat", chat), reply["message_id"])
    origin = msg.get("forward_origin")
    if isinstance(origin, dict):
        who = origin.get("sender_user") or {}
        name = (" ".join(p for p in (who.get("first_name"), who.get("last_name")) if p)
                or origin.get("sender_user_name")
                or (origin.get("chat") or origin.get("sender_chat") or {}).get("title"))
        if name:
            payload["forwarded_from"] = name
    if "edit_date" in msg:
        payload["edited_at"] = ts(msg["edit_date"]).isoformat()
    return payload


def _msg_type(msg: dict[str, Any]) -> MsgType:
    for key, kind in _MEDIA:
        if key in msg:
            return kind
    if "forward_origin" in msg:
        return MsgType.FORWARD
    if "reply_to_message" in msg and not msg.get("is_topic_message"):
        return MsgType.REPLY
    return MsgType.TEXT if msg.get("text") else MsgType.OTHER


def _entities(text: str, entities: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Links and mentions; offsets are UTF-16 code units, as the Bot API counts."""
    units = text.encode("utf-16-le")
    urls: list[str] = []
    mentions: list[str] = []
    for ent in entities:
        part = units[2 * ent.get("offset", 0): 2 * (ent.get("offset", 0) + ent.get("length", 0))]
        value = part.decode("utf-16-le", "replace")
        kind = ent.get("type")
        if kind == "url" and value not in urls:
            urls.append(value)
        elif kind == "text_link" and ent.get("url") and ent["url"] not in urls:
            urls.append(ent["url"])
        elif kind == "mention":
            mentions.append(value.lstrip("@"))
        elif kind == "text_mention" and ent.get("user"):
            mentions.append(str(ent["user"]["id"]))
    return urls, mentions


def _edit(msg: dict[str, Any]) -> list[Event]:
    chat = msg["chat"]
    edited = msg.get("edit_date", msg["date"])
    payload: dict[str, Any] = {"edited_at": ts(edited).isoformat(),
                               "message_id": _sid(chat, msg["message_id"])}
    text = msg.get("text") if "text" in msg else msg.get("caption")
    if text:
        payload["text"] = text
    return [Event(PLATFORM, _sid(chat, msg["message_id"], "edit", edited), Kind.EDIT,
                  ts(edited), group(chat), _sender(msg), None, payload)]


def _reaction(upd: dict[str, Any]) -> list[Event]:
    chat = upd["chat"]
    actor = identity(upd.get("user"))
    if actor is None and upd.get("actor_chat"):
        actor = IdentityRef(PLATFORM, str(upd["actor_chat"]["id"]), upd["actor_chat"].get("title"))
    if actor is None:
        return []
    old = {_reaction_key(r) for r in upd.get("old_reaction", [])}
    out = []
    for r in upd.get("new_reaction", []):
        emoji = _reaction_key(r)
        if emoji in old:
            continue
        out.append(Event(PLATFORM, _sid(chat, upd["message_id"], "reaction", actor.external_id,
                                        emoji), Kind.REACTION, ts(upd["date"]), group(chat),
                         actor, None,
                         {"emoji": emoji, "message_id": _sid(chat, upd["message_id"])}))
    return out


def _reaction_key(r: dict[str, Any]) -> str:
    if r.get("type") == "emoji":
        return str(r.get("emoji"))
    if r.get("type") == "custom_emoji":
        return f"custom:{r.get('custom_emoji_id')}"
    return str(r.get("type", "unknown"))


# --------------------------------------------------------------------------- members


def _member_join(chat: dict[str, Any], when: datetime, actor: IdentityRef | None,
                 target: IdentityRef | None, msg: dict[str, Any]) -> Event:
    assert target is not None
    self_join = actor is None or actor.external_id == target.external_id
    method = JoinMethod.UNKNOWN if self_join else JoinMethod.INVITED_BY
    return Event(PLATFORM, _sid(chat, "join", target.external_id, msg["date"]), Kind.JOIN, when,
                 group(chat), actor or target, target,
                 {"method": method.value, "service": "new_chat_members",
                  "extra": {"message_id": msg["message_id"]}})


def _present(member: dict[str, Any]) -> bool:
    status = member.get("status")
    return status in _PRESENT or (status == "restricted" and bool(member.get("is_member")))


def _until(member: dict[str, Any]) -> str | None:
    until = member.get("until_date") or 0
    return ts(until).isoformat() if until else None


def _chat_member(upd: dict[str, Any]) -> list[Event]:
    chat, date = upd["chat"], upd["date"]
    old, new = upd["old_chat_member"], upd["new_chat_member"]
    target = identity(new["user"])
    actor = identity(upd.get("from")) or target
    assert target is not None and actor is not None
    uid, g, when = target.external_id, group(chat), ts(date)
    by_self = actor.external_id == uid
    was, now = _present(old), _present(new)

    def ev(what: str, kind: Kind, payload: dict[str, Any]) -> Event:
        return Event(PLATFORM, _sid(chat, what, uid, date), kind, when, g, actor, target, payload)

    if not was and now:
        return [ev("join", Kind.JOIN, _join_payload(upd, by_self))]
    if was and not now:
        events = [ev("exit", Kind.LEAVE if by_self else Kind.KICK, {"service": "chat_member"})]
        if new.get("status") == "kicked":
            events.append(ev("ban", Kind.BAN, _drop({"service": "chat_member",
                                                     "until": _until(new)})))
        return events
    old_s, new_s = old.get("status"), new.get("status")
    if new_s == "kicked" and old_s != "kicked":
        return [ev("ban", Kind.BAN, _drop({"service": "chat_member", "until": _until(new)}))]
    if old_s == "kicked" and new_s != "kicked":
        return [ev("unban", Kind.UNBAN, {"service": "chat_member"})]
    if new_s == "restricted" and not new.get("can_send_messages", True):
        return [ev("mute", Kind.MUTE, _drop({"service": "chat_member", "until": _until(new)}))]
    return [Event(PLATFORM, _sid(chat, "member", uid, date, new_s), Kind.SERVICE, when, g,
                  actor, target, {"service": "chat_member",
                                  "extra": {"old_status": old_s, "new_status": new_s}})]


def _join_payload(upd: dict[str, Any], by_self: bool) -> dict[str, Any]:
    link = upd.get("invite_link")
    payload: dict[str, Any] = {"service": "chat_member"}
    if isinstance(link, dict):
        payload["method"] = JoinMethod.INVITE_LINK.value
        payload["invite_link"] = link.get("name") or link.get("invite_link")
        extra: dict[str, Any] = {"invite_link_url": link.get("invite_link")}
        if not by_self:
            extra["approved_by_actor"] = True
        payload["extra"] = extra
    elif upd.get("via_join_request"):
        payload["method"] = JoinMethod.APPROVED.value
    elif upd.get("via_chat_folder_invite_link"):
        payload["method"] = JoinMethod.INVITE_LINK.value
        payload["extra"] = {"chat_folder": True}
    elif not by_self:
        payload["method"] = JoinMethod.INVITED_BY.value
    else:
        payload["method"] = JoinMethod.UNKNOWN.value
    return payload


def _my_chat_member(upd: dict[str, Any]) -> list[Event]:
    """The bot's own standing: a service event (the bot is not a community member)."""
    chat, date = upd["chat"], upd["date"]
    new = upd["new_chat_member"]
    bot = identity(new["user"])
    assert bot is not None
    status = new.get("status")
    return [Event(PLATFORM, _sid(chat, "bot", bot.external_id, date, status), Kind.SERVICE,
                  ts(date), group(chat), identity(upd.get("from")), bot,
                  {"service": "my_chat_member",
                   "extra": {"old_status": upd["old_chat_member"].get("status"),
                             "new_status": status}})]


def _join_request(req: dict[str, Any]) -> Event:
    """A join request: SERVICE ``join_request`` (events.py has no kind for it)."""
    chat, user = req["chat"], identity(req["from"])
    assert user is not None
    payload: dict[str, Any] = {"service": "join_request"}
    link = req.get("invite_link")
    if isinstance(link, dict):
        payload["invite_link"] = link.get("name") or link.get("invite_link")
    extra = {k: req[k] for k in ("bio", "user_chat_id") if k in req}
    if extra:
        payload["extra"] = extra
    return Event(PLATFORM, _sid(chat, "join_request", user.external_id, req["date"]),
                 Kind.SERVICE, ts(req["date"]), group(chat), user, user, payload)


def _drop(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}
