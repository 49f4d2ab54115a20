"""QQ group history from the PC message manager's text export.

消息管理器 → 导出消息记录 → 文本文件(*.txt) writes::

    消息记录（此消息记录为文本格式，不支持重新导入）

    ================================================================
    消息分组:我的QQ群
    ================================================================
    消息对象:周末骑行群
    ================================================================

    2020-01-01 12:00:00 【管理员】张三(10001)
    大家好

    2020-01-01 12:00:05 李四<lisi@example.com>
    [图片]

One header line per message (local time, nickname, then ``(QQ号)`` or
``<email>``; 讨论组 exports have the nickname alone), the message lines, a blank
line. A file may hold several 消息对象 sections, one per chat. There are no
message ids, so ids are derived from the content (:func:`stable_id`).

The current desktop QQ (QQNT, 9.x) has no message manager; its group history is
exported with QQChatExporter as TXT or JSON. Those are read by
:mod:`qq_nt_txt` and :mod:`qq_nt_json`; this module picks the reader per file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, Kind, MsgType
from qunyun.importers import qq_nt_json, qq_nt_txt
from qunyun.importers._cjk import DuplicateCounter, decode_head, parse_local_time, sniff_encoding
from qunyun.importers.base import (
    CountingReader,
    ImportOptions,
    InputFile,
    LazyPosition,
    Record,
    Rejected,
    SourceFile,
    find_mentions,
    find_urls,
    list_inputs,
    open_text,
    stable_id,
    time_key,
)
from qunyun.importers.qq_sysmsg import parse_qq_system

PLATFORM = "qq"
BANNER = "消息记录（此消息记录为文本格式，不支持重新导入）"
_RULE = "=" * 20

HEADER_RE = re.compile(
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2}) (?P<time>\d{1,2}:\d{2}:\d{2}(?: ?[AaPp][Mm])?) "
    r"(?P<who>\S.*?)\s*$"
)
_ID_RE = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<qq>\d{4,12})\)|<(?P<mail>[^<>\s]+@[^<>\s]+)>)$")
_TITLE_PREFIX_RE = re.compile(r"^(?:【[^】]*】\s*)+")
_SYSTEM_IDS = frozenset({"10000", "1000000"})

_PLACEHOLDERS: dict[str, MsgType] = {
    "[图片]": MsgType.IMAGE,
    "[闪照]": MsgType.IMAGE,
    "[表情]": MsgType.EMOJI,
    "[语音]": MsgType.VOICE,
    "[视频]": MsgType.VIDEO,
    "[文件]": MsgType.FILE,
    "[位置]": MsgType.LOCATION,
    "[名片]": MsgType.CONTACT,
    "[链接]": MsgType.LINK,
    "[分享]": MsgType.LINK,
    "[QQ红包]": MsgType.OTHER,
    "[红包]": MsgType.OTHER,
    "[转账]": MsgType.OTHER,
    "[聊天记录]": MsgType.FORWARD,
}


def looks_like_qq(head: str) -> int:
    """0-100: how much a file's first characters look like a QQ text export."""
    if BANNER[:12] in head:
        return 98
    lines = head.splitlines()
    headers = sum(1 for ln in lines if (m := HEADER_RE.match(ln)) and _ID_RE.match(m["who"]))
    if any(ln.startswith("消息对象:") for ln in lines) and headers:
        return 90
    return 60 if headers >= 3 else 0


class QQImporter:
    name = "qq"
    platform = PLATFORM
    description = (
        "QQ group chats: the PC message manager's .txt (消息管理器), and QQNT exports "
        "made with QQChatExporter (.txt, .json, chunked .jsonl)"
    )

    def detect(self, path: Path) -> int:
        best = 0
        for inp in list_inputs(path)[:200]:
            suffix = PurePosixPath(inp.name).suffix.lower()
            if suffix == ".txt":
                head = decode_head(inp.head())
                best = max(best, looks_like_qq(head), qq_nt_txt.looks_like_qce_txt(head))
            elif suffix == ".json" and qq_nt_json.looks_like_qce_json(inp):
                best = max(best, 95)
            elif suffix == ".jsonl" and qq_nt_json.looks_like_qce_chunk(inp):
                best = max(best, 90)
        return best

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        inputs = list_inputs(path)
        manifests = {i.name: i for i in inputs if qq_nt_json.is_manifest(i)}
        found = False
        for inp in inputs:
            sf = _source(inp, options, manifests)
            if sf is not None:
                found = True
                yield sf
        if not found:
            raise ImportFormatError(
                f"{path}: not a QQ export (message-manager .txt, or QQChatExporter .txt/.json)",
                zh=f"{path}：不是 QQ 聊天记录导出"
                "（消息管理器 .txt，或 QQChatExporter 的 .txt/.json）",
                code="not_qq",
            )


def _source(
    inp: InputFile, options: ImportOptions, manifests: dict[str, InputFile]
) -> SourceFile | None:
    """The reader for one file of the export, or None when it is none of QQ's."""
    suffix = PurePosixPath(inp.name).suffix.lower()
    if suffix == ".json":
        if inp.name in manifests or not qq_nt_json.looks_like_qce_json(inp):
            return None  # a chunked export's manifest is read with its chunks
        pos = LazyPosition()
        return SourceFile(inp.label, qq_nt_json.records(inp, pos, options), inp.size, pos)
    if suffix == ".jsonl":
        if not qq_nt_json.looks_like_qce_chunk(inp):
            return None
        manifest = manifests.get(qq_nt_json.manifest_name(inp))
        info = qq_nt_json.read_chat_info(manifest) if manifest is not None else {}
        pos = LazyPosition()
        records = qq_nt_json.chunk_records(inp, info, pos, options)
        return SourceFile(inp.label, records, inp.size, pos)
    head = decode_head(inp.head())
    if qq_nt_txt.looks_like_qce_txt(head) > looks_like_qq(head):
        raw = CountingReader(inp.open())
        return SourceFile(inp.label, qq_nt_txt.records(inp, raw, options), inp.size, raw.position)
    if looks_like_qq(head) > 0:
        raw = CountingReader(inp.open())
        return SourceFile(inp.label, _records(inp, raw, options), inp.size, raw.position)
    return None


IMPORTER = QQImporter()


# ---------------------------------------------------------------- parsing


@dataclass
class _Pending:
    """The message being read: its header and the lines so far."""

    line: int
    ts: Any
    sender: IdentityRef
    is_system: bool
    lines: list[str] = field(default_factory=list)


class _Reader:
    """Line-by-line state: the current chat and the message being collected."""

    def __init__(self, inp: InputFile, options: ImportOptions) -> None:
        self.inp = inp
        self.options = options
        stem = PurePosixPath(inp.name).stem
        self.group = _group_ref(options.group or stem)
        self.pending: _Pending | None = None
        self.prev_blank = True
        self.orphan_reported = False
        self.dups = DuplicateCounter()

    def feed(self, lineno: int, line: str) -> Iterator[Record]:
        blank = not line.strip()
        if self.prev_blank and (m := HEADER_RE.match(line)):
            yield from self.flush()
            yield from self.start(lineno, m)
        elif _is_section_line(line):
            # a rule line or the banner ends the message before it: a new section starts
            yield from self.flush()
            if line.startswith(("消息对象:", "消息对象：")):
                self.group = _group_ref(line[5:].strip())
        elif self.pending is None:
            if not blank and not line.startswith(("消息分组:", "消息分组：")):
                yield from self.orphan(lineno)
        else:
            self.pending.lines.append(line)
        self.prev_blank = blank

    def start(self, lineno: int, m: re.Match[str]) -> Iterator[Record]:
        try:
            ts = parse_local_time(f"{m['date']} {m['time']}", self.options.tz)
        except ValueError as exc:
            yield Rejected(self.inp.label, str(exc), line=lineno, field="time")
            self.pending = None
            self.orphan_reported = True  # its lines belong to the rejected header
            return
        sender, is_system = _sender(m["who"])
        self.pending = _Pending(lineno, ts, sender, is_system)
        self.orphan_reported = False

    def orphan(self, lineno: int) -> Iterator[Record]:
        if not self.orphan_reported:
            self.orphan_reported = True
            yield Rejected(
                self.inp.label,
                "text outside any message (no header line before it)",
                line=lineno,
                field="header",
            )

    def flush(self) -> Iterator[Event]:
        p, self.pending = self.pending, None
        if p is None:
            return
        while p.lines and not p.lines[-1].strip():
            p.lines.pop()
        text = "\n".join(p.lines).strip()
        key = stable_id(self.group.external_id, p.ts.isoformat(), p.sender.external_id, text)
        n = self.dups.occurrence(p.ts, key)
        eid = f"{self.group.external_id}:{time_key(p.ts)}:{key if n == 0 else stable_id(key, n)}"
        if p.is_system:
            yield from parse_qq_system(text, eid, p.ts, self.group)
        else:
            yield Event(
                PLATFORM, eid, Kind.MESSAGE, p.ts, self.group, p.sender, None, _payload(text)
            )


def _is_section_line(line: str) -> bool:
    if line.startswith(_RULE) and not line.strip("="):
        return True
    return line.startswith((BANNER[:12], "消息对象:", "消息对象："))


def _records(inp: InputFile, raw: CountingReader, options: ImportOptions) -> Iterator[Record]:
    reader = _Reader(inp, options)
    try:
        text = open_text(raw, sniff_encoding(inp.head()))  # type: ignore[arg-type]
        for lineno, line in enumerate(text, start=1):
            yield from reader.feed(lineno, line.rstrip("\r\n").lstrip("\ufeff"))
        yield from reader.flush()
    finally:
        raw.close()


def _group_ref(title: str) -> GroupRef:
    """A chat from its 消息对象 line; ``名字(群号)`` gives a number, else the name is the id."""
    m = _ID_RE.match(title)
    if m and m["qq"]:
        return GroupRef(PLATFORM, m["qq"], m["name"] or None)
    return GroupRef(PLATFORM, title, title)


def _sender(who: str) -> tuple[IdentityRef, bool]:
    """The author of a header: QQ number, else e-mail, else the nickname as written."""
    m = _ID_RE.match(who)
    name = _TITLE_PREFIX_RE.sub("", m["name"] if m else who).strip()
    ext = (m["qq"] or m["mail"]) if m else None
    is_system = bool(m and m["qq"] in _SYSTEM_IDS and name.startswith("系统消息"))
    return IdentityRef(PLATFORM, ext or name, name or None), is_system


# what clients without flash-photo support write after [闪照]
_FLASH_HINT_RE = re.compile(r"^\[闪照\]\s*请使用新版手机QQ查看闪照[。.]?$")


def _payload(text: str) -> dict[str, Any]:
    if _FLASH_HINT_RE.match(text.strip()):
        text = "[闪照]"
    mt = _PLACEHOLDERS.get(text.strip())
    if mt is not None:
        return {"type": mt.value, "media": text.strip()}
    payload: dict[str, Any] = {"type": MsgType.TEXT.value}
    if text:
        payload["text"] = text
    if mentions := find_mentions(text):
        payload["mentions"] = mentions
    if urls := find_urls(text):
        payload["urls"] = urls
    media = [p for p in _PLACEHOLDERS if p in text]
    if media:
        payload["media"] = " ".join(media)
    return payload
