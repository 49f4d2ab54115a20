"""The fake Telegram's world: users, chats, memberships and the bot's update queue.

Both the Bot API methods (the bot acting) and the test helpers (people acting)
change the world through :class:`World`, and every change produces the updates
Telegram would send: a join is a ``message`` with ``new_chat_members`` *and* a
``chat_member`` update, as on the real service. Who receives what follows the
Bot API: ``chat_member`` and ``message_reaction`` only when the bot is an admin
of the chat and asked for them in ``allowed_updates``; with privacy mode on, a
non-admin bot sees only service messages, commands and replies to itself; a bot
never receives its own messages.

Not thread-safe by itself: :class:`~qunyun.testing.telegram_fake.FakeBotAPI`
holds one lock around every call into it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from qunyun.testing.telegram_fake_model import (
    ADMIN_RIGHTS,
    ApiError,
    Chat,
    InviteLink,
    JoinRequest,
    Member,
    User,
    bad_request,
)

#: What a bot receives when ``allowed_updates`` is empty or was never given.
DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
#: Updates only an administrator bot receives.
_ADMIN_ONLY = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class World:
    def __init__(self, bot: User, *, privacy_mode: bool, wall: Callable[[], float]) -> None:
        self.bot = bot
        self.privacy_mode = privacy_mode
        self.wall = wall  # Unix time, for message dates
        self.users: dict[int, User] = {bot.id: bot}
        self.by_name: dict[str, User] = {}
        self.chats: dict[int, Chat] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 100_000_001
        self.allowed: frozenset[str] = DEFAULT_UPDATES
        self._next_user = 1_000_001
        self._next_chat = 1_000_000_001
        self.on_update: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ things

    def now(self) -> int:
        return int(self.wall())

    def user(self, name: str) -> User:
        """The user called ``name`` (created on first mention, with a stable id)."""
        found = self.by_name.get(name)
        if found is None:
            first, _, last = name.partition(" ")
            found = User(self._next_user, first, last_name=last or None,
                         username=f"{first.lower()}_{self._next_user}")
            self._next_user += 1
            self.by_name[name] = found
            self.users[found.id] = found
        return found

    def add_chat(self, title: str, kind: str, bot_rights: frozenset[str] | None) -> Chat:
        cid = self._next_chat
        self._next_chat += 1
        chat_id = -(1_000_000_000_000 + cid) if kind == "supergroup" else -cid
        chat = Chat(chat_id, kind, title)
        owner = self.user(f"Owner {cid}")
        chat.members[owner.id] = Member(owner, "creator")
        if bot_rights is None:
            bot_rights = frozenset(ADMIN_RIGHTS)
        if bot_rights:
            chat.members[self.bot.id] = Member(self.bot, "administrator", rights=bot_rights)
        else:
            chat.members[self.bot.id] = Member(self.bot, "member")
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: object) -> Chat:
        """The chat a method names, with the errors Telegram gives."""
        try:
            cid = int(str(chat_id))
        except ValueError:
            raise bad_request("chat not found") from None
        chat = self.chats.get(cid)
        if chat is None:
            raise bad_request("chat not found")
        bot = chat.members.get(self.bot.id)
        if bot is None or bot.status == "kicked":
            raise ApiError(403, chat.kicked_text)
        if not bot.present:
            kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")
        return chat

    def member(self, chat: Chat, user: User) -> Member:
        return chat.members.get(user.id) or Member(user, "left")

    def bot_member(self, chat: Chat) -> Member:
        return self.member(chat, self.bot)

    def is_admin(self, chat: Chat) -> bool:
        return self.bot_member(chat).status in ("administrator", "creator")

    def require(self, chat: Chat, right: str, what: str) -> None:
        """Raise Telegram's 400 when the bot lacks ``right`` in ``chat``."""
        bot = self.bot_member(chat)
        if bot.status == "creator" or (bot.status == "administrator" and right in bot.rights):
            return
        raise bad_request(f"not enough rights to {what}")

    def user_by_id(self, value: object) -> User:
        try:
            uid = int(str(value))
        except ValueError:
            raise bad_request("invalid user_id specified") from None
        user = self.users.get(uid)
        if user is None:
            raise bad_request("user not found")
        return user

    # ------------------------------------------------------------------ updates

    def emit(self, kind: str, chat: Chat | None, obj: dict[str, Any]) -> None:
        allowed = self.allowed
        if kind not in allowed:
            return
        if kind in _ADMIN_ONLY and (chat is None or not self.is_admin(chat)):
            return
        self.updates.append({"update_id": self.next_update_id, kind: obj})
        self.next_update_id += 1
        self.on_update()

    def set_allowed(self, kinds: list[str] | None) -> None:
        if kinds is None:
            return  # "If not specified, the previous setting will be used."
        self.allowed = frozenset(kinds) if kinds else DEFAULT_UPDATES

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ones."""
        if offset < 0:
            self.updates = self.updates[offset:]
        elif offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def pending(self, offset: int, limit: int) -> list[dict[str, Any]]:
        if offset < 0:
            return self.updates[offset:][:limit]
        return [u for u in self.updates if u["update_id"] >= offset][:limit]

    # ------------------------------------------------------------------ messages

    def _sees(self, chat: Chat, msg: dict[str, Any], service: bool) -> bool:
        if msg.get("from", {}).get("id") == self.bot.id:
            return False
        if service or not self.privacy_mode or self.is_admin(chat):
            return True
        text = msg.get("text", "")
        reply = msg.get("reply_to_message", {})
        return bool(text.startswith("/") or reply.get("from", {}).get("id") == self.bot.id)

    def post(self, chat: Chat, sender: User, fields: dict[str, Any], *,
             service: bool = False, date: int | None = None) -> dict[str, Any]:
        """Store a message (a person's, the bot's or a service one) and tell the bot."""
        msg: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": sender.json(),
            "chat": chat.json(),
            "date": self.now() if date is None else date,
        }
        msg.update(fields)
        chat.messages[msg["message_id"]] = msg
        if self._sees(chat, msg, service):
            self.emit("message", chat, msg)
        return msg

    def message(self, chat: Chat, message_id: int) -> dict[str, Any] | None:
        if message_id in chat.deleted:
            return None
        return chat.messages.get(message_id)

    # ------------------------------------------------------------------ membership

    def change(self, chat: Chat, by: User, new: Member, *, date: int | None = None,
               link: InviteLink | None = None, via_request: bool = False) -> int:
        """Set a member's standing and send the chat_member / my_chat_member update."""
        old = self.member(chat, new.user)
        chat.members[new.user.id] = new
        when = self.now() if date is None else date
        upd: dict[str, Any] = {
            "chat": chat.json(),
            "from": by.json(),
            "date": when,
            "old_chat_member": old.json(),
            "new_chat_member": new.json(),
        }
        if link is not None:
            upd["invite_link"] = link.json(self.bot.id)
        if via_request:
            upd["via_join_request"] = True
        self.emit("my_chat_member" if new.user.id == self.bot.id else "chat_member", chat, upd)
        return when

    def join(self, chat: Chat, user: User, by: User | None = None, *,
             link: InviteLink | None = None, via_request: bool = False) -> int:
        """``user`` comes in (by ``by``, through ``link``): both updates Telegram sends."""
        if self.member(chat, user).present:
            raise ValueError(f"{user.first_name} is already in {chat.title}")
        by = by or user
        date = self.change(chat, by, Member(user, "member"), link=link, via_request=via_request)
        if link is not None:
            link.uses += 1
        # the service message is from the joiner unless someone else added them
        sender = by if by.id != user.id and not via_request and link is None else user
        members = [user.json()]
        self.post(chat, sender, {"new_chat_participant": user.json(),
                                 "new_chat_member": user.json(),
                                 "new_chat_members": members}, service=True, date=date)
        return date

    def remove(self, chat: Chat, user: User, by: User, *, ban_until: int | None = None) -> None:
        """``user`` leaves (``by`` is themself), is removed, or is banned (``ban_until``)."""
        was = self.member(chat, user)
        status = "kicked" if ban_until is not None else "left"
        date = self.change(chat, by, Member(user, status, until_date=ban_until or 0))
        if was.present:
            self.post(chat, by, {"left_chat_participant": user.json(),
                                 "left_chat_member": user.json()}, service=True, date=date)

    def request_join(self, chat: Chat, user: User, link: InviteLink | None,
                     bio: str | None = None) -> None:
        if self.member(chat, user).present:
            raise ValueError(f"{user.first_name} is already in {chat.title}")
        req = JoinRequest(user, self.now(), link, bio)
        chat.requests[user.id] = req
        if link is not None:
            link.pending += 1
        obj: dict[str, Any] = {
            "chat": chat.json(),
            "from": user.json(),
            "user_chat_id": user.id,
            "date": req.date,
        }
        if bio:
            obj["bio"] = bio
        if link is not None:
            obj["invite_link"] = link.json(self.bot.id)
        self.emit("chat_join_request", chat, obj)

    def settle_request(self, chat: Chat, user: User, by: User, approve: bool) -> None:
        req = chat.requests.pop(user.id, None)
        if req is None:
            raise bad_request("HIDE_REQUESTER_MISSING")
        if req.link is not None:
            req.link.pending = max(0, req.link.pending - 1)
        if approve:
            date = self.change(chat, by, Member(user, "member"), link=req.link,
                               via_request=req.link is None)
            if req.link is not None:
                req.link.uses += 1
            self.post(chat, user, {"new_chat_participant": user.json(),
                                   "new_chat_member": user.json(),
                                   "new_chat_members": [user.json()]}, service=True, date=date)

    def new_link(self, chat: Chat, creator: User, **fields: Any) -> InviteLink:
        link = InviteLink(f"https://t.me/+{secrets.token_urlsafe(12)}", creator, **fields)
        chat.links[link.url] = link
        return link

    def find_link(self, chat: Chat, ref: str) -> InviteLink:
        """A link by its URL or its name (test helpers say which link a person used)."""
        link = chat.links.get(ref)
        if link is None:
            link = next((lk for lk in chat.links.values() if lk.name == ref), None)
        if link is None:
            raise ValueError(f"no invite link {ref!r} in {chat.title}")
        if link.is_revoked or (link.expire_date is not None and link.expire_date <= self.now()):
            raise ValueError(f"invite link {ref!r} has expired or was revoked")
        if link.member_limit is not None and link.uses >= link.member_limit:
            raise ValueError(f"invite link {ref!r} reached its member limit")
        return link


def wall_clock() -> float:
    return time.time()
