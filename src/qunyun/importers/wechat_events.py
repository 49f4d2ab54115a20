"""Turning one normalised WeChat row into events.

The export tools (PyWxDump, WeChatMsg/留痕) differ in columns but not in
meaning: every row is a message of a WeChat type (文本, 图片, 引用回复 … or the
numeric ``Type``/``SubType`` pair) or a system notice. The reader in
:mod:`qunyun.importers.wechat` maps columns to a :class:`WxRow`; this module
decides what the row means, so both tools get identical events.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, Kind, MsgType
from qunyun.importers.base import find_mentions, find_urls
from qunyun.importers.wechat_sysmsg import SELF, Person, SysAction, parse_system

PLATFORM = "wechat"

# PyWxDump's type names (pywxdump type_converter) -> what the message carries.
_BY_NAME: dict[str, MsgType] = {
    "文本": MsgType.TEXT,
    "粘贴的文本": MsgType.TEXT,
    "图片": MsgType.IMAGE,
    "语音": MsgType.VOICE,
    "视频": MsgType.VIDEO,
    "动画表情": MsgType.STICKER,
    "用户上传的GIF表情": MsgType.STICKER,
    "用户上传的 GIF 表情": MsgType.STICKER,
    "位置": MsgType.LOCATION,
    "位置共享": MsgType.LOCATION,
    "名片": MsgType.CONTACT,
    "推荐公众号": MsgType.CONTACT,
    "(分享)视频号名片": MsgType.CONTACT,
    "文件": MsgType.FILE,
    "文件(猜)": MsgType.FILE,
    "合并转发的聊天记录": MsgType.FORWARD,
    "引用回复": MsgType.REPLY,
    "带有引用的文本消息": MsgType.REPLY,
    "语音通话": MsgType.CALL,
    "地图信息": MsgType.LOCATION,
    "类似文字消息而不一样的消息": MsgType.TEXT,
    "分享的小程序": MsgType.LINK,
    "卡片式链接": MsgType.LINK,
    "转账": MsgType.OTHER,
    "转账消息": MsgType.OTHER,
    "红包": MsgType.OTHER,
    "赠送红包封面": MsgType.OTHER,
    "群公告": MsgType.OTHER,
    "接龙": MsgType.OTHER,
}
# 系统通知 (10000/0), 消息撤回1/5/6/33/36/57 (10000/n), 拍一拍 (10000/4), 邀请加群 (10000/8000)
_SYSTEM_NAMES = ("系统通知", "消息撤回", "拍一拍", "邀请加群", "撤回")

# Numeric (Type, SubType) of the MSG table, as WeChatMsg/留痕 writes them.
_BY_CODE: dict[int, MsgType] = {
    1: MsgType.TEXT,
    3: MsgType.IMAGE,
    34: MsgType.VOICE,
    42: MsgType.CONTACT,
    43: MsgType.VIDEO,
    47: MsgType.STICKER,
    48: MsgType.LOCATION,
    50: MsgType.CALL,
}
_BY_APP_SUBTYPE: dict[int, MsgType] = {
    0: MsgType.FILE,
    6: MsgType.FILE,
    74: MsgType.FILE,
    8: MsgType.STICKER,
    19: MsgType.FORWARD,
    57: MsgType.REPLY,
    17: MsgType.LOCATION,
    1: MsgType.TEXT,
    3: MsgType.LINK,
    4: MsgType.LINK,
    5: MsgType.LINK,
    24: MsgType.LINK,
    33: MsgType.LINK,
    36: MsgType.LINK,
    40: MsgType.LINK,
    51: MsgType.LINK,
    63: MsgType.LINK,
    88: MsgType.LINK,
    50: MsgType.CONTACT,
    87: MsgType.OTHER,  # 群公告
    2000: MsgType.OTHER,  # 转账
    2001: MsgType.OTHER,  # 红包
    2003: MsgType.OTHER,  # 红包封面
}
SYSTEM_CODES = frozenset({10000, 10002})
_APP_SYSTEM_SUBTYPES = frozenset({62})  # 49/62: 拍一拍 sent as an app message (WeChat 4)


def type_from_name(name: str) -> MsgType | None:
    """The MsgType of a PyWxDump ``type_name``; None for a system notice."""
    name = name.strip()
    if name.startswith(_SYSTEM_NAMES):
        return None
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.startswith(("(分享)", "分享")) or "链接" in name or "视频号" in name:
        return MsgType.LINK
    return MsgType.OTHER


def type_from_code(kind: int, sub: int) -> MsgType | None:
    """The MsgType of a numeric ``Type``/``SubType``; None for a system notice."""
    if kind in SYSTEM_CODES:
        return None
    if kind == 49:
        if sub in _APP_SYSTEM_SUBTYPES:
            return None
        return _BY_APP_SUBTYPE.get(sub, MsgType.OTHER)
    return _BY_CODE.get(kind, MsgType.OTHER)


# Raw WeChat content of a group message starts with the sender's id and a newline
# ("wxid_abc123:\n你好", "12345@chatroom:\n<sysmsg …>") wherever a tool copies the
# database column unchanged (mobile databases, WeChat 4, some WeChatMsg versions).
_PREFIX_RE = re.compile(r"^(?P<id>[A-Za-z0-9][-_A-Za-z0-9.@]{2,63}):[ \t]*\r?\n")
_WXID_RE = re.compile(r"^(?:wxid_[A-Za-z0-9_-]+|\d+@chatroom|[A-Za-z][-_A-Za-z0-9]{5,19})$")


def split_sender_prefix(content: str, known_sender: str | None) -> tuple[str, str | None]:
    """``(content without the "<id>:\\n" prefix, that id)``; unchanged when there is none.

    Only a WeChat id (``wxid_…``, ``…@chatroom`` or a custom id of 6-20 letters, digits,
    ``_`` and ``-`` starting with a letter) counts, and a custom id only when it is the
    row's sender or the row names none, so "Note:\\n…" typed by someone stays as it is.
    """
    m = _PREFIX_RE.match(content)
    if not m:
        return content, None
    pid = m["id"]
    if not _WXID_RE.match(pid):
        return content, None
    strong = pid.startswith("wxid_") or pid.endswith("@chatroom")
    if not strong and known_sender not in (None, "", pid):
        return content, None
    return content[m.end() :], pid


@dataclass
class WxRow:
    """One row of any WeChat export, in the exporting tool's own words."""

    event_id: str  # "<group>:<MsgSvrID>" or "<group>:<stable id>"
    ts: datetime
    group: GroupRef
    msg_type: MsgType | None  # None: a system notice
    type_label: str  # the tool's type name or "Type/SubType"
    content: str
    src: str
    sender: IdentityRef | None
    self_ref: IdentityRef  # the exporting account, for "你" in notices


def row_events(row: WxRow) -> Iterator[Event]:
    """The events one row stands for (several for a multi-member join)."""
    if row.msg_type is None:
        yield from _system_events(row, parse_system(row.content))
        return
    payload = _message_payload(row.msg_type, row.content, row.src)
    yield Event(PLATFORM, row.event_id, Kind.MESSAGE, row.ts, row.group, row.sender, None, payload)


# ---------------------------------------------------------------- messages

_PLACEHOLDER_TYPES = {MsgType.IMAGE, MsgType.VIDEO, MsgType.VOICE, MsgType.STICKER}
_QUOTE_SPLIT = re.compile(r"\n*\[引用\]")
_ANCHOR_RE = re.compile(r"<a\s+href=\"([^\"]*)\"[^>]*>.*?</a>", re.S)


def _message_payload(mt: MsgType, content: str, src: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": mt.value}
    text, extra, urls = _message_text(mt, content, src)
    if text:
        payload["text"] = text
        if mentions := find_mentions(text):
            payload["mentions"] = mentions
        urls = [*urls, *(u for u in find_urls(text) if u not in urls)]
    if urls:
        payload["urls"] = urls
    media = _media(mt, content, src)
    if media:
        payload["media"] = media
    if extra:
        payload["extra"] = extra
    return payload


def _message_text(mt: MsgType, content: str, src: str) -> tuple[str, dict[str, str], list[str]]:
    """Plain text, extras and URLs of a message, whichever tool wrote the content."""
    if mt in _PLACEHOLDER_TYPES:
        return "", {}, []
    if content.lstrip().startswith("<"):
        return _from_xml(mt, content)
    if mt is MsgType.REPLY:
        parts = _QUOTE_SPLIT.split(content, maxsplit=1)
        extra = {"quote": "[引用]" + parts[1]} if len(parts) == 2 else {}
        return parts[0].strip(), extra, []
    if mt is MsgType.LINK:
        urls = [u for u in (src, *_ANCHOR_RE.findall(content)) if u.startswith("http")]
        return _ANCHOR_RE.sub("", content).strip(), {}, list(dict.fromkeys(urls))
    if mt is MsgType.FILE:
        return "", {}, []
    return content.strip(), {}, []


def _from_xml(mt: MsgType, xml: str) -> tuple[str, dict[str, str], list[str]]:
    """What a raw StrContent XML (WeChatMsg CSV) says in words."""
    if mt is MsgType.LOCATION:
        text = " ".join(v for v in (_attr(xml, "poiname"), _attr(xml, "label")) if v)
        return text, {}, []
    if mt is MsgType.CONTACT:
        return _attr(xml, "nickname"), {}, []
    title = _tag(xml, "title")
    url = _tag(xml, "url")
    return (title if mt is not MsgType.FILE else ""), {}, ([url] if url.startswith("http") else [])


def _media(mt: MsgType, content: str, src: str) -> str | None:
    if mt is MsgType.FILE:
        if content and not content.lstrip().startswith("<"):
            return content.strip()
        return _tag(content, "title") or src.replace("\\", "/").rsplit("/", 1)[-1] or None
    if mt in _PLACEHOLDER_TYPES:
        return src or None
    return None


def _attr(xml: str, name: str) -> str:
    m = re.search(rf'\b{name}\s*=\s*"([^"]*)"', xml)
    return html.unescape(m[1]).strip() if m else ""


def _tag(xml: str, name: str) -> str:
    m = re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", xml, re.S)
    return html.unescape(m[1]).strip() if m else ""


# ---------------------------------------------------------------- system notices


def _system_events(row: WxRow, act: SysAction) -> Iterator[Event]:
    def ident(p: Person | None) -> IdentityRef | None:
        if p is None:
            return None
        if p.wxid:
            return IdentityRef(PLATFORM, p.wxid, p.name if p.name != p.wxid else None)
        if p.name in (SELF, "我"):
            return row.self_ref
        return IdentityRef(PLATFORM, p.name, p.name)

    base: dict[str, Any] = {"text": act.text, "service": act.service or row.type_label}
    actor = ident(act.actor)
    if act.kind in (Kind.JOIN, Kind.KICK, Kind.LEAVE) and act.targets:
        many = len(act.targets) > 1
        for n, person in enumerate(act.targets, start=1):
            payload = dict(base)
            if act.method is not None:
                payload["method"] = act.method.value
            if not person.wxid and not person.is_self:
                # keyed by the name the notice shows, not by the wxid that writes the
                # member's messages: qunyun.crm.links may link the two
                payload["target_by_name"] = True
            sid = f"{row.event_id}:{n}" if many else row.event_id
            yield Event(PLATFORM, sid, act.kind, row.ts, row.group, actor, ident(person), payload)
        return
    if act.kind is Kind.TITLE_CHANGE:
        base["title"] = act.title or ""
    target = ident(act.targets[0]) if act.targets else None
    kind = act.kind if act.kind is not Kind.JOIN else Kind.SERVICE
    yield Event(PLATFORM, row.event_id, kind, row.ts, row.group, actor, target, base)
