"""What the fake Bot API holds (users, chats, members, links) and its JSON shapes.

Every ``*_json`` function returns the object exactly as the Bot API writes it
(https://core.telegram.org/bots/api#available-types), optional fields left out
when empty, so python-telegram-bot's ``de_json`` — and any other client — parses
it unchanged. Parsing of formatted text (``parse_mode``) lives here too, because
what the fake stores is what Telegram stores: the plain text after the markup.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

#: Administrator rights as the Bot API names them (ChatMemberAdministrator).
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
    "can_manage_direct_messages",
    "can_manage_tags",
)

#: ChatPermissions fields (what a restricted member may still do).
PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code", "description", ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


@dataclass
class User:
    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        return out


@dataclass
class Member:
    """One user's standing in one chat (the ChatMember variants)."""

    user: User
    status: str  # creator, administrator, member, restricted, left, kicked
    rights: frozenset[str] = frozenset()  # administrator rights
    permissions: dict[str, bool] = field(default_factory=dict)  # restricted
    is_member: bool = True  # restricted: still in the chat
    until_date: int = 0  # restricted / kicked: 0 = forever
    promoted_by_bot: bool = False

    @property
    def present(self) -> bool:
        return self.status in ("creator", "administrator", "member") or (
            self.status == "restricted" and self.is_member
        )

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"user": self.user.json(), "status": self.status}
        if self.status == "creator":
            out["is_anonymous"] = False
        elif self.status == "administrator":
            out["can_be_edited"] = self.promoted_by_bot
            out["is_anonymous"] = False
            out.update({r: r in self.rights for r in ADMIN_RIGHTS})
        elif self.status == "restricted":
            out["is_member"] = self.is_member
            out.update({p: self.permissions.get(p, False) for p in PERMISSIONS})
            out["until_date"] = self.until_date
        elif self.status == "kicked":
            out["until_date"] = self.until_date
        return out


@dataclass
class InviteLink:
    url: str
    creator: User
    creates_join_request: bool = False
    is_primary: bool = False
    is_revoked: bool = False
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    uses: int = 0
    pending: int = 0

    def json(self, viewer_id: int) -> dict[str, Any]:
        """As ``viewer_id`` sees it: another admin's link has its secret part hidden."""
        url = self.url
        if self.creator.id != viewer_id:
            url = url[: len("https://t.me/+") + 4] + "..."
        out: dict[str, Any] = {
            "invite_link": url,
            "creator": self.creator.json(),
            "creates_join_request": self.creates_join_request,
            "is_primary": self.is_primary,
            "is_revoked": self.is_revoked,
        }
        if self.name is not None:
            out["name"] = self.name
        if self.expire_date is not None:
            out["expire_date"] = self.expire_date
        if self.member_limit is not None:
            out["member_limit"] = self.member_limit
        if self.creates_join_request:
            out["pending_join_request_count"] = self.pending
        return out


@dataclass
class JoinRequest:
    user: User
    date: int
    link: InviteLink | None = None
    bio: str | None = None


@dataclass
class Chat:
    id: int
    type: str  # "group" or "supergroup"
    title: str
    members: dict[int, Member] = field(default_factory=dict)
    links: dict[str, InviteLink] = field(default_factory=dict)
    requests: dict[int, JoinRequest] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    next_message_id: int = 1

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type}

    def full_json(self) -> dict[str, Any]:
        """ChatFullInfo, as getChat returns it."""
        out = self.json()
        out.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
                "permissions": dict.fromkeys(PERMISSIONS, True),
            }
        )
        return out

    @property
    def kicked_text(self) -> str:
        kind = "supergroup chat" if self.type == "supergroup" else "group chat"
        return f"Forbidden: bot was kicked from the {kind}"

    def take_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


# --------------------------------------------------------------------------- formatted text

_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "span", "blockquote", "tg-emoji"}
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def parse_text(text: str, parse_mode: str | None) -> str:
    """The plain text Telegram stores for ``text`` sent with ``parse_mode``."""
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return re.sub(r"[*_`\[\]]", "", text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def _parse_html(text: str) -> str:
    """Plain text of Telegram-HTML; the errors Telegram gives for bad markup."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "<":
            m = _TAG.match(text, pos)
            offset = len(text[:pos].encode("utf-8"))
            if m is None:
                raise bad_request(
                    f"can't parse entities: Unsupported start tag at byte offset {offset}"
                )
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in _HTML_TAGS:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
                )
            if closing:
                if not stack or stack[-1] != name:
                    raise bad_request(
                        f'can\'t parse entities: Unexpected end tag at byte offset {offset}'
                    )
                stack.pop()
            else:
                stack.append(name)
            pos = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, pos)
            if m is None:
                offset = len(text[:pos].encode("utf-8"))
                raise bad_request(
                    "can't parse entities: Character entity expected at byte offset "
                    f"{offset}"
                )
            out.append(html.unescape(m.group(0)))
            pos = m.end()
        elif ch == ">":
            # Telegram accepts a bare ">" only as "&gt;"
            offset = len(text[:pos].encode("utf-8"))
            raise bad_request(f"can't parse entities: Unexpected end tag at byte offset {offset}")
        else:
            out.append(ch)
            pos += 1
    if stack:
        raise bad_request(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"'
        )
    return "".join(out)


def _parse_markdown_v2(text: str) -> str:
    """Plain text of MarkdownV2; a reserved character must be escaped, as Telegram says."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch in "*_~|`":
            i += 1  # entity markers
            continue
        if ch in _MDV2_RESERVED and ch not in "[]()":
            raise bad_request(
                f"can't parse entities: Character '{ch}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        out.append(ch)
        i += 1
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", "".join(out))
