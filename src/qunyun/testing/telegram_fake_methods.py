"""The Bot API methods the fake answers, one function each: ``(world, params) -> result``.

Parameters arrive as Telegram accepts them — a query string, an
``application/x-www-form-urlencoded`` body whose object values are JSON
(python-telegram-bot's way), or a JSON body — and :class:`Params` reads them the
same from all three. Rights, statuses and error texts follow the Bot API manual;
where Telegram's exact wording is not documented the text still starts the way
clients match on ("Bad Request: not enough rights to ...").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from qunyun.testing.telegram_fake_model import (
    PERMISSIONS,
    ApiError,
    Chat,
    Member,
    bad_request,
    parse_text,
)
from qunyun.testing.telegram_fake_state import World

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_URL_SCHEMES = ("http://", "https://", "tg://")


class Params:
    """One call's parameters; ``form`` says the values are strings to be typed."""

    def __init__(self, values: dict[str, Any], form: bool) -> None:
        self.values = values
        self.form = form

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def integer(self, name: str, default: int | None = None, *, empty: str | None = None) -> int:
        value = self.values.get(name)
        if value in (None, ""):
            if default is not None:
                return default
            raise bad_request(empty or f"{name} is empty")
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def opt_int(self, name: str) -> int | None:
        return self.integer(name) if self.has(name) else None

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str) and self.form:
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


Method = Callable[[World, Params], Any]


# --------------------------------------------------------------------------- bot, updates


def get_me(world: World, p: Params) -> Any:
    me = world.bot.json()
    me.update({"can_join_groups": True, "can_read_all_group_messages": not world.privacy_mode,
               "supports_inline_queries": False, "can_connect_to_business": False,
               "has_main_web_app": False})
    return me


# --------------------------------------------------------------------------- sending


def _markup(p: Params) -> dict[str, Any] | None:
    markup = p.obj("reply_markup")
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise bad_request("unsupported reply_markup (the fake knows inline keyboards only)")
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(
                "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays"
            )
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't find field \"text\"")
            url = button.get("url")
            if url is not None and not str(url).startswith(_URL_SCHEMES):
                raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            if url is None and "callback_data" not in button:
                raise bad_request("can't find field \"callback_data\"")
    return {"inline_keyboard": rows}


def _reply(world: World, chat: Chat, p: Params) -> dict[str, Any] | None:
    params = p.obj("reply_parameters")
    if params is None and p.has("reply_to_message_id"):
        params = {"message_id": p.integer("reply_to_message_id")}
    if params is None:
        return None
    if not isinstance(params, dict) or "message_id" not in params:
        raise bad_request("field \"message_id\" must be of type Integer")
    original = world.message(chat, int(params["message_id"]))
    if original is None:
        if params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return original


def _send(world: World, p: Params, fields: dict[str, Any]) -> dict[str, Any]:
    chat = world.chat(p.raw("chat_id") if p.has("chat_id") else _empty("chat_id"))
    me = world.bot_member(chat)
    if me.status == "restricted" and not me.permissions.get("can_send_messages", False):
        raise bad_request("not enough rights to send text messages to the chat")
    reply = _reply(world, chat, p)
    if reply is not None:
        fields["reply_to_message"] = reply
    markup = _markup(p)
    if markup is not None:
        fields["reply_markup"] = markup
    if p.has("message_thread_id"):
        fields["message_thread_id"] = p.integer("message_thread_id")
    return world.post(chat, world.bot, fields)


def _empty(name: str) -> Any:
    raise bad_request(f"{name} is empty")


def send_message(world: World, p: Params) -> Any:
    text = p.text("text") or ""
    plain = parse_text(text, p.text("parse_mode"))
    if not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > _MAX_TEXT:
        raise bad_request("message is too long")
    return _send(world, p, {"text": plain})


def send_photo(world: World, p: Params) -> Any:
    photo = p.text("photo")
    if not photo:
        raise bad_request("there is no photo in the request")
    if not photo.startswith(("http://", "https://")) and ":" not in photo:
        raise bad_request("wrong file identifier/HTTP URL specified")
    fields: dict[str, Any] = {
        "photo": [{"file_id": f"AgAC{abs(hash(photo)) % 10**12:012d}",
                   "file_unique_id": f"AQAD{abs(hash(photo)) % 10**8:08d}",
                   "width": 1280, "height": 720, "file_size": 123456}],
    }
    caption = p.text("caption")
    if caption:
        plain = parse_text(caption, p.text("parse_mode"))
        if len(plain) > _MAX_CAPTION:
            raise bad_request("message caption is too long")
        fields["caption"] = plain
    return _send(world, p, fields)


def delete_message(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    mid = p.integer("message_id")
    msg = world.message(chat, mid)
    if msg is None:
        raise bad_request("message to delete not found")
    if msg.get("from", {}).get("id") != world.bot.id:
        bot = world.bot_member(chat)
        if not (bot.status == "creator" or "can_delete_messages" in bot.rights):
            raise bad_request("message can't be deleted")
    chat.deleted.add(mid)
    return True


# --------------------------------------------------------------------------- members


def _target(world: World, chat: Chat, p: Params, action: str) -> Member:
    user = world.user_by_id(p.raw("user_id") if p.has("user_id") else _empty("user_id"))
    if user.id == world.bot.id:
        raise bad_request(f"can't {action} self")
    member = world.member(chat, user)
    if member.status == "creator":
        raise bad_request("can't remove chat owner")
    if member.status == "administrator" and not member.promoted_by_bot:
        raise bad_request("user is an administrator of the chat")
    return member


def ban_chat_member(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    world.require(chat, "can_restrict_members", "restrict/unrestrict chat member")
    member = _target(world, chat, p, "remove")
    until = _until(world, p.opt_int("until_date"))
    world.remove(chat, member.user, world.bot, ban_until=until)
    if chat.type == "supergroup" or p.flag("revoke_messages"):
        for mid, msg in chat.messages.items():
            if msg.get("from", {}).get("id") == member.user.id and "new_chat_members" not in msg:
                chat.deleted.add(mid)
    return True


def _until(world: World, until: int | None) -> int:
    """Telegram's rule: less than 30 s or more than 366 days from now means forever."""
    if not until:
        return 0
    delta = until - world.now()
    return 0 if delta < 30 or delta > 366 * 86400 else until


def unban_chat_member(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    world.require(chat, "can_restrict_members", "restrict/unrestrict chat member")
    member = _target(world, chat, p, "unban")
    if member.status == "kicked":
        world.change(chat, world.bot, Member(member.user, "left"))
    elif member.present and not p.flag("only_if_banned"):
        # "if the user is a member of the chat they will also be removed from the chat"
        world.remove(chat, member.user, world.bot)
    return True


def restrict_chat_member(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    world.require(chat, "can_restrict_members", "restrict/unrestrict chat member")
    member = _target(world, chat, p, "restrict")
    perms = p.obj("permissions")
    if not isinstance(perms, dict):
        raise bad_request("can't parse permissions JSON object")
    granted = {k: bool(perms.get(k, False)) for k in PERMISSIONS}
    until = _until(world, p.opt_int("until_date"))
    if all(granted.values()):
        new = Member(member.user, "member" if member.present else member.status)
    else:
        new = Member(member.user, "restricted", permissions=granted,
                     is_member=member.present, until_date=until)
    world.change(chat, world.bot, new)
    return True


def approve_chat_join_request(world: World, p: Params) -> Any:
    return _settle(world, p, approve=True)


def decline_chat_join_request(world: World, p: Params) -> Any:
    return _settle(world, p, approve=False)


def _settle(world: World, p: Params, approve: bool) -> Any:
    chat = world.chat(p.raw("chat_id"))
    world.require(chat, "can_invite_users", "manage join requests")
    user = world.user_by_id(p.raw("user_id") if p.has("user_id") else _empty("user_id"))
    if approve and world.member(chat, user).present:
        chat.requests.pop(user.id, None)
        raise bad_request("USER_ALREADY_PARTICIPANT")
    world.settle_request(chat, user, world.bot, approve)
    return True


# --------------------------------------------------------------------------- links, chat


def create_chat_invite_link(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    world.require(chat, "can_invite_users", "manage chat invite link")
    name = p.text("name")
    if name is not None and len(name) > 32:
        raise bad_request("invite link name is too long")
    limit = p.opt_int("member_limit")
    join_request = p.flag("creates_join_request")
    if limit is not None and not 1 <= limit <= 99999:
        raise bad_request("member limit must be between 1 and 99999")
    if limit is not None and join_request:
        raise bad_request(
            "member limit can't be specified for links requiring administrator approval"
        )
    expire = p.opt_int("expire_date")
    if expire is not None and expire <= world.now():
        raise bad_request("EXPIRE_DATE_INVALID")
    link = world.new_link(chat, world.bot, name=name, member_limit=limit,
                          expire_date=expire, creates_join_request=join_request)
    return link.json(world.bot.id)


def revoke_chat_invite_link(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    world.require(chat, "can_invite_users", "manage chat invite link")
    link = chat.links.get(p.text("invite_link") or "")
    if link is None:
        raise bad_request("INVITE_HASH_EXPIRED")
    link.is_revoked = True
    return link.json(world.bot.id)


def set_chat_title(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    world.require(chat, "can_change_info", "change chat title")
    title = (p.text("title") or "").strip()
    if not title:
        raise bad_request("chat title is empty")
    if len(title) > 128:
        raise bad_request("chat title is too long")
    if title == chat.title:
        raise bad_request("chat title is not modified")
    chat.title = title
    world.post(chat, world.bot, {"new_chat_title": title}, service=True)
    return True


def get_chat(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    return chat.full_json()


def get_chat_member(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    user = world.user_by_id(p.raw("user_id") if p.has("user_id") else _empty("user_id"))
    return world.member(chat, user).json()


def get_chat_administrators(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    return [m.json() for m in chat.members.values() if m.status in ("creator", "administrator")]


def get_chat_member_count(world: World, p: Params) -> Any:
    chat = world.chat(p.raw("chat_id"))
    return sum(1 for m in chat.members.values() if m.present)


#: Lower-case method name -> implementation (Bot API method names are case-insensitive).
#: getUpdates and the webhook methods need the server and live in FakeBotAPI.
METHODS: dict[str, Method] = {
    "getme": get_me,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "deletemessage": delete_message,
    "banchatmember": ban_chat_member,
    "kickchatmember": ban_chat_member,  # the old name, still accepted
    "unbanchatmember": unban_chat_member,
    "restrictchatmember": restrict_chat_member,
    "approvechatjoinrequest": approve_chat_join_request,
    "declinechatjoinrequest": decline_chat_join_request,
    "createchatinvitelink": create_chat_invite_link,
    "revokechatinvitelink": revoke_chat_invite_link,
    "setchattitle": set_chat_title,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchatmembercount": get_chat_member_count,
    "getchatmemberscount": get_chat_member_count,
}

#: Methods that send a message and so count against the sending limits.
SENDS = frozenset({"sendmessage", "sendphoto"})


def error_of(exc: Exception) -> ApiError:
    return exc if isinstance(exc, ApiError) else ApiError(500, "Internal Server Error")
