"""One QQNT message, as QQChatExporter (QCE) writes it, turned into events.

QCE (shuakami/qq-chat-exporter, built on NapCat) exports TXT and JSON; both
readers (:mod:`qq_nt_json`, :mod:`qq_nt_txt`) normalise a message into an
:class:`NtMessage` and hand it here, so both agree on types, ids, mentions,
replies, recalls and gray-tip (系统消息) notices.

What QCE's text of a message looks like: the text elements, with placeholders
for everything else — ``[图片: a.jpg]`` / ``[图片:a.jpg]``, ``[视频: v.mp4]``,
``[语音 5秒]`` / ``[语音:5秒]``, ``[文件: x.pdf]``, ``[/微笑]`` or ``[表情12]``
(face), ``[name]`` (market face), ``[合并转发: 3条]`` / ``[转发消息: 3条]``,
``[卡片消息: title]`` / ``[JSON消息]``, ``[位置: …]`` / ``[位置消息]``, and a
reply quoted first as ``[回复 name: content]`` and a newline (or
``[回复消息]``). A gray tip is ``[<subElementType>]`` (``[4]``) in the usual
path, or its wording (``张三 撤回了一条消息``, ``X加入了群聊``) in the fallback
one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, Kind, MsgType
from qunyun.importers.base import find_mentions, find_urls
from qunyun.importers.qq_sysmsg import parse_qq_system

PLATFORM = "qq"

#: element / resource kinds QCE writes → message type, strongest first
KIND_TYPES: dict[str, MsgType] = {
    "forward": MsgType.FORWARD,
    "file": MsgType.FILE,
    "video": MsgType.VIDEO,
    "audio": MsgType.VOICE,
    "voice": MsgType.VOICE,
    "image": MsgType.IMAGE,
    "market_face": MsgType.STICKER,
    "location": MsgType.LOCATION,
    "json": MsgType.LINK,
    "card": MsgType.LINK,
    "face": MsgType.EMOJI,
}

# text placeholders → kind; the label is what QCE writes inside the brackets
_PLACEHOLDER_RE = re.compile(
    r"\[(?P<label>图片|视频|语音|文件|合并转发|转发消息|卡片消息|卡片|JSON消息|分享|"
    r"位置消息|位置|日历|回复消息|表情消息|image|video|audio|file)"
    r"(?:(?:\s*[:：]\s*|\s+)(?:[^\[\]\n]|\[[^\[\]\n]*\])*)?\]"
)
_LABEL_KINDS = {
    "图片": "image",
    "image": "image",
    "视频": "video",
    "video": "video",
    "语音": "audio",
    "audio": "audio",
    "文件": "file",
    "file": "file",
    "合并转发": "forward",
    "转发消息": "forward",
    "卡片消息": "json",
    "卡片": "json",
    "JSON消息": "json",
    "分享": "json",
    "位置消息": "location",
    "位置": "location",
    "表情消息": "face",
}
#: a leading quoted reply in the text (``[回复 name: content]`` + newline)
REPLY_PREFIX_RE = re.compile(r"^\[回复 (?P<who>[^:\n]*?): (?P<quote>.*?)\]\n", re.DOTALL)
# a face written in the text: [/微笑], [表情12], [doge]
_FACE_RE = re.compile(r"\[/?[^\[\]\s/]{1,12}\]")
#: a gray tip QCE could not word: its sub-element type in brackets, or a stock text
GRAYTIP_CODE_RE = re.compile(r"^\[(?:\d{1,3}|系统消息|系统提示消息?)\]$")
# QCE's file names: group_<群号>_<YYYYMMDD>_<HHMMSS>[…].json / .txt / …_chunked_jsonl
_FILE_GROUP_RE = re.compile(
    r"(?:^|[/_!\\])(?P<t>group|friend)_(?:.*_)?(?P<id>\d{5,12})_\d{8}_\d{6}"
)


@dataclass
class NtMessage:
    """One message as read from either QCE shape."""

    ts: datetime
    sender_id: str  # QQ number, else the NT uid (u_…), else the name
    sender_name: str | None
    text: str
    msg_id: str | None = None
    kinds: list[str] = field(default_factory=list)  # element kinds, in order
    files: list[str] = field(default_factory=list)  # file names of attachments
    mentions: list[str] = field(default_factory=list)
    reply_to: str | None = None  # QQNT msgId of the message replied to
    is_system: bool = False
    recalled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def group_from_label(label: str) -> tuple[str | None, bool]:
    """(group number, is a private chat) from QCE's file or folder name, if it has one."""
    # the last match: the file's own name wins over its folders
    m = next(reversed(list(_FILE_GROUP_RE.finditer(label.replace("\\", "/")))), None)
    if m is None:
        return None, False
    return m["id"], m["t"] == "friend"


def group_ref(label: str, title: str | None, forced: str | None) -> GroupRef:
    """The group of a QCE file: ``--group``, else the number in its name, else its title."""
    if forced:
        return GroupRef(PLATFORM, forced, title or forced)
    number, _private = group_from_label(label)
    if number:
        return GroupRef(PLATFORM, number, title or None)
    name = title or PurePosixPath(label.replace("\\", "/")).stem
    return GroupRef(PLATFORM, name, name)


def text_kinds(text: str) -> list[str]:
    """Kinds of the placeholders written in a text."""
    return [
        _LABEL_KINDS[m["label"]]
        for m in _PLACEHOLDER_RE.finditer(text)
        if m["label"] in _LABEL_KINDS
    ]


def _residual(text: str) -> str:
    """What is left of a text once placeholders and faces are taken out."""
    return _FACE_RE.sub("", _PLACEHOLDER_RE.sub("", text)).strip()


def message_type(kinds: list[str], text: str, is_reply: bool) -> MsgType:
    """A media message is one with nothing but placeholders; text with a reply is a reply."""
    residual = _residual(text)
    if not residual:
        present = set(kinds) | set(text_kinds(text))
        for kind, mt in KIND_TYPES.items():
            if kind in present:
                return mt
        if text.strip() and _FACE_RE.fullmatch(text.strip()):
            return MsgType.EMOJI
    if is_reply:
        return MsgType.REPLY
    return MsgType.TEXT if residual or text.strip() else MsgType.OTHER


def payload(msg: NtMessage, group: GroupRef) -> dict[str, Any]:
    text = msg.text
    quote = REPLY_PREFIX_RE.match(text)
    if quote:
        text = text[quote.end() :]
    is_reply = bool(quote) or msg.reply_to is not None or "reply" in msg.kinds
    text = text.strip()
    out: dict[str, Any] = {"type": message_type(msg.kinds, text, is_reply).value}
    if text:
        out["text"] = text
    mentions = msg.mentions or find_mentions(text)
    if mentions:
        out["mentions"] = mentions
    if urls := find_urls(text):
        out["urls"] = urls
    if msg.reply_to:
        out["reply_to"] = f"{group.external_id}:{msg.reply_to}"
    if msg.files:
        out["media"] = " ".join(msg.files)
    extra = dict(msg.extra)
    if quote:
        extra["reply_quote"] = {"name": quote["who"], "text": quote["quote"]}
    if msg.recalled:
        extra["recalled"] = True
    if extra:
        out["extra"] = extra
    return out


def events(msg: NtMessage, group: GroupRef, eid: str) -> Iterator[Event]:
    """The events one QCE message stands for."""
    sender = IdentityRef(PLATFORM, msg.sender_id, msg.sender_name or None)
    if msg.is_system:
        yield from _system(msg, group, eid)
        return
    has_content = bool(msg.text.strip() or msg.kinds)
    if has_content or not msg.recalled:
        yield Event(PLATFORM, eid, Kind.MESSAGE, msg.ts, group, sender, None, payload(msg, group))
    if msg.recalled:
        # QQNT keeps a recalled message with its recall time set: the recall is an event too
        yield Event(
            PLATFORM,
            f"{eid}:recall",
            Kind.DELETE,
            msg.ts,
            group,
            sender,
            None,
            {"message_id": eid, "service": "recall"},
        )


def _system(msg: NtMessage, group: GroupRef, eid: str) -> Iterator[Event]:
    text = msg.text.strip()
    if not text or GRAYTIP_CODE_RE.match(text):
        extra = dict(msg.extra)
        if text:
            extra["graytip"] = text.strip("[]")
        body: dict[str, Any] = {"service": "graytip"}
        if extra:
            body["extra"] = extra
        yield Event(PLATFORM, eid, Kind.SERVICE, msg.ts, group, None, None, body)
        return
    # the wording QCE's fallback path writes, e.g. "张三 撤回了一条消息", "X加入了群聊"
    yield from parse_qq_system(text, eid, msg.ts, group)
