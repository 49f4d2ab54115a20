"""QQChatExporter (QCE) JSON exports of QQNT chats → :class:`NtMessage`.

QCE writes one JSON object per chat, streamed in this order::

    {"metadata": {"name": "QQChatExporter V5 / https://github.com/shuakami/qq-chat-exporter", …},
     "chatInfo": {"name": "群名", "type": "group", "selfUid": …, "selfUin": …, "avatar": …},
     "statistics": {…},
     "messages": [ {…}, … ],
     "avatars": {…}, "exportOptions": {…}}

named ``group_<群号>_<YYYYMMDD>_<HHMMSS>.json``. Its messages come in two shapes:

* current (V5, and V1–V3 before it): ``id``, ``seq``, ``timestamp`` (unix ms),
  ``time``, ``sender {uid, uin, name, nickname?, groupCard?, remark?}``, ``type``
  (``type_1``… or ``text``/``system``…), ``content {text, html, elements
  [{type, data}], resources, mentions?}``, ``recalled``, ``system``;
* early V4: ``messageId``, ``messageSeq``, ``timestamp`` (ISO string),
  ``sender``, ``messageType`` (NT number), ``isSystemMessage``, ``isRecalled``,
  ``content {text, mentions, reply, resources, emojis, multiForward, card,
  location}``, ``rawMessage {msgId, senderUin, sendNickName, sendMemberName …}``.

Very large chats can also be exported as a folder ``…_chunked_jsonl`` holding
``manifest.json`` (metadata and chatInfo) and ``chunks/c000001.jsonl`` … with
one current-shape message per line. Files are streamed (ijson, or line by line).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath
from typing import Any

import ijson

from qunyun.events import GroupRef
from qunyun.importers._cjk import parse_local_time
from qunyun.importers.base import (
    BadField,
    CountingReader,
    ImportOptions,
    InputFile,
    LazyPosition,
    Record,
    Rejected,
    stable_id,
)
from qunyun.importers.json_stream import objects
from qunyun.importers.qq_nt_content import NtMessage, events, group_from_label, group_ref

_HEAD_START_RE = re.compile(rb"^\s*\{")
_CHUNK_RE = re.compile(r"(?:^|/)chunks/c\d{6}\.jsonl$")
_BUILT = (
    "metadata",
    "chatInfo",
    "messages.item",
    "chunks.item.chatInfo",
    "chunks.item.messages.item",
)
_PRIVATE_TYPES = frozenset({"private", "friend", "temp", "私聊", "临时会话"})
# NT msgType numbers (early V4 "messageType") → kinds
_NT_TYPES = {3: "file", 6: "audio", 7: "video", 8: "forward", 4: "json", 11: "json"}


def _head(inp: InputFile) -> bytes:
    try:
        return inp.head(8192).removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return b""


def looks_like_qce_json(inp: InputFile) -> bool:
    """A single-file QCE JSON export (or a chunked export's manifest)."""
    if not inp.name.lower().endswith(".json"):
        return False
    head = _head(inp)
    return bool(_HEAD_START_RE.match(head)) and b'"chatInfo"' in head and b'"metadata"' in head


def is_manifest(inp: InputFile) -> bool:
    return PurePosixPath(inp.name).name == "manifest.json" and looks_like_qce_json(inp)


def looks_like_qce_chunk(inp: InputFile) -> bool:
    """A ``chunks/c000001.jsonl`` file of a chunked QCE export."""
    if not _CHUNK_RE.search(inp.name.lower()):
        return False
    first = _head(inp).split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"sender"' in first and b'"content"' in first


def manifest_name(chunk: InputFile) -> str:
    """Where a chunk's manifest is: ``<export>/manifest.json`` next to ``<export>/chunks/``."""
    parent = PurePosixPath(chunk.name).parent.parent
    return "manifest.json" if str(parent) == "." else f"{parent}/manifest.json"


def read_chat_info(inp: InputFile) -> dict[str, Any]:
    """The ``chatInfo`` of a manifest (a small file), streamed all the same."""
    with inp.open() as fh:
        for prefix, value in objects(fh, _BUILT):
            if prefix == "chatInfo" and isinstance(value, dict):
                return value
    return {}


# --------------------------------------------------------------------------- streaming


class _Chat:
    """What the messages of one file share."""

    def __init__(self, inp: InputFile, info: dict[str, Any], options: ImportOptions) -> None:
        self.inp = inp
        self.tz: tzinfo = options.tz
        title = info.get("name") if isinstance(info.get("name"), str) else None
        label = inp.label
        self.group: GroupRef = group_ref(label, title, options.group)
        ctype = str(info.get("type") or "").lower()
        self.private = ctype in _PRIVATE_TYPES or (
            not options.group and not ctype and group_from_label(label)[1]
        )

    def skipped(self) -> Rejected:
        return Rejected(
            self.inp.label,
            "a private chat, not a group: skipped",
            record="chatInfo",
            field="type",
            skipped=True,
        )


def records(inp: InputFile, pos: LazyPosition, options: ImportOptions) -> Iterator[Record]:
    """Records of a single-file QCE JSON export."""
    chat: _Chat | None = None
    index = 0
    with inp.open() as raw:
        reader = CountingReader(raw)
        pos.reader = reader
        try:
            for prefix, value in objects(reader, _BUILT):
                if prefix.endswith("chatInfo"):
                    chat = _Chat(inp, value if isinstance(value, dict) else {}, options)
                    if chat.private:
                        yield chat.skipped()
                        return
                    continue
                if not prefix.endswith("messages.item"):
                    continue
                if chat is None:
                    chat = _Chat(inp, {}, options)
                yield from _one(chat, value, f"messages[{index}]", None)
                index += 1
        except ijson.JSONError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            yield Rejected(
                inp.label,
                f"invalid JSON after {index} messages: {reason}",
                record=f"messages[{index}]",
                field="json",
            )


def chunk_records(
    inp: InputFile, info: dict[str, Any], pos: LazyPosition, options: ImportOptions
) -> Iterator[Record]:
    """Records of one ``chunks/*.jsonl`` file, its chat described by the manifest."""
    # the chunk's own path carries no group number: name it by the export folder
    chat = _Chat(inp, info, options)
    if chat.private:
        yield chat.skipped()
        return
    with inp.open() as raw:
        reader = CountingReader(raw)
        pos.reader = reader
        for lineno, line in enumerate(io.BufferedReader(reader), start=1):
            text = line.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                yield Rejected(inp.label, f"invalid JSON: {exc}", line=lineno, field="json")
                continue
            yield from _one(chat, value, None, lineno)


def _one(chat: _Chat, value: Any, record: str | None, line: int | None) -> Iterator[Record]:
    try:
        msg = normalise(value, chat.tz)
    except BadField as exc:
        yield Rejected(chat.inp.label, exc.message, line=line, record=record, field=exc.field)
        return
    gid = chat.group.external_id
    key = msg.msg_id or stable_id(gid, msg.ts.isoformat(), msg.sender_id, msg.text)
    yield from events(msg, chat.group, f"{gid}:{key}")


# --------------------------------------------------------------------------- one message


def _s(value: Any) -> str | None:
    """A non-empty string of a JSON scalar, or None."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # ijson floats of integer ids
        text = text[:-2]
    return text or None


def _uin(value: Any) -> str | None:
    text = _s(value)
    return text if text and text.isdigit() and text != "0" else None


def _time(raw: dict[str, Any], tz: tzinfo) -> datetime:
    ts = raw.get("timestamp")
    if isinstance(ts, (int, float)) and not isinstance(ts, bool) and ts > 0:
        return datetime.fromtimestamp(ts / 1000 if ts > 1e11 else ts, tz=UTC)
    for key in ("timestamp", "time"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        text = value.strip()
        if "T" in text:  # ISO 8601, "…Z" from JavaScript's toISOString
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
        try:  # "2025-01-15 14:30:25": the exporting machine's wall clock
            return parse_local_time(text, tz)
        except ValueError:
            continue
    raise BadField("timestamp", f"no usable time (timestamp={ts!r}, time={raw.get('time')!r})")


def normalise(raw: Any, tz: tzinfo) -> NtMessage:
    """Either message shape as one :class:`NtMessage`; raises :class:`BadField`."""
    if not isinstance(raw, dict):
        raise BadField("message", f"a message must be a JSON object, not {type(raw).__name__}")
    sender = raw.get("sender")
    if not isinstance(sender, dict):
        raise BadField("sender", "message has no sender object")
    rawmsg = _dict(raw.get("rawMessage"))
    uin = _uin(sender.get("uin")) or _uin(rawmsg.get("senderUin"))
    uid = _s(sender.get("uid")) or _s(rawmsg.get("senderUid"))
    name = (
        _s(sender.get("groupCard"))
        or _s(rawmsg.get("sendMemberName"))
        or _s(sender.get("name"))
        or _s(sender.get("nickname"))
        or _s(rawmsg.get("sendNickName"))
    )
    sender_id = uin or uid or name
    if not sender_id:
        raise BadField("sender", "sender has no uin, uid or name")
    content = raw.get("content")
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise BadField("content", "content must be an object")
    text = content.get("text")
    if text is not None and not isinstance(text, str):
        raise BadField("content.text", "text must be a string")
    msg = NtMessage(
        ts=_time(raw, tz),
        sender_id=sender_id,
        sender_name=name,
        text=text or "",
        msg_id=_s(raw.get("id")) or _s(raw.get("messageId")) or _s(rawmsg.get("msgId")),
        is_system=bool(raw.get("system") or raw.get("isSystemMessage")),
        recalled=bool(raw.get("recalled") or raw.get("isRecalled")),
    )
    if name in (uin, uid):
        msg.sender_name = None  # QCE falls back to the number or uid when a member has no name
    if uid and uid != sender_id:
        msg.extra["uid"] = uid
    seq = _s(raw.get("seq")) or _s(raw.get("messageSeq"))
    if seq:
        msg.extra["seq"] = seq
    _elements(msg, content)
    nt_type = raw.get("messageType")
    if isinstance(nt_type, (int, float)) and int(nt_type) in _NT_TYPES:
        msg.kinds.append(_NT_TYPES[int(nt_type)])
    if msg.is_system and not msg.text:
        msg.text = _system_text(content)
    return msg


def _elements(msg: NtMessage, content: dict[str, Any]) -> None:
    """Kinds, files, mentions and the reply target from elements / resources / emojis."""
    mentions: list[str] = []
    for el in _list(content.get("elements")):
        kind, data = el.get("type"), _dict(el.get("data"))
        if not isinstance(kind, str):
            continue
        if kind == "at":
            if who := _s(data.get("name")) or _s(data.get("uid")):
                mentions.append(who.removeprefix("@"))
            continue
        if kind == "reply":
            msg.kinds.append("reply")
            msg.reply_to = msg.reply_to or _reply_id(data)
            continue
        if kind != "text":
            msg.kinds.append(kind)
        if kind in ("image", "video", "audio", "file") and (f := _s(data.get("filename"))):
            msg.files.append(f)
    for res in _list(content.get("resources")):
        kind = res.get("type")
        if isinstance(kind, str):
            msg.kinds.append(kind)
        f = _s(res.get("filename")) or _s(res.get("fileName"))
        if f and f not in msg.files:
            msg.files.append(f)
    for emo in _list(content.get("emojis")):
        msg.kinds.append("market_face" if emo.get("type") == "market" else "face")
    for key, kind in (("multiForward", "forward"), ("card", "json"), ("location", "location")):
        if isinstance(content.get(key), dict):
            msg.kinds.append(kind)
    reply = content.get("reply")
    if isinstance(reply, dict):
        msg.kinds.append("reply")
        msg.reply_to = msg.reply_to or _reply_id(reply)
    for m in _list(content.get("mentions")):
        if m.get("type") == "all" or m.get("uid") == "all":
            who = "全体成员"
        else:
            who = _s(m.get("name")) or _s(m.get("uid")) or ""
        if who and who.removeprefix("@") not in mentions:
            mentions.append(who.removeprefix("@"))
    msg.mentions = mentions


def _reply_id(data: dict[str, Any]) -> str | None:
    """The msgId of the message replied to: QCE's ``referencedMessageId``, else ``messageId``."""
    for key in ("referencedMessageId", "messageId", "replayMsgId"):
        value = _s(data.get(key))
        if value and value != "0":
            return value
    return None


def _system_text(content: dict[str, Any]) -> str:
    """The words of a gray tip that QCE kept only in its elements."""
    for el in _list(content.get("elements")):
        data = el.get("data")
        if el.get("type") == "system" and isinstance(data, dict):
            text = _s(data.get("text")) or _s(data.get("summary"))
            if text:
                return text
    return ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
