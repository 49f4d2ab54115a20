"""QQChatExporter (QCE) TXT exports of QQNT chats → :class:`NtMessage`.

QCE's TextExporter writes (``group_<群号>_<YYYYMMDD>_<HHMMSS>.txt``, UTF-8)::

    [QQChatExporter V5 / https://github.com/shuakami/qq-chat-exporter]
    [本软件是免费的开源项目~ …]

    ===============================================
               QQ聊天记录导出文件
    ===============================================

    聊天名称: 周末骑行群
    聊天类型: 群聊
    导出时间: 2025-01-15 14:30:25
    消息总数: 3
    时间范围: 2025-01-01 09:00:00 - 2025-01-15 14:30:25

    张三:
    时间: 2025-01-01 09:00:00
    内容: 大家好
    资源: 1 个文件
      - image: a.jpg
    提及: 李四
    回复: 李四 - 原消息


    李四:
    …

    ===============================================
                  导出完成
    ===============================================
    总计导出 3 条消息
    导出时间: …

A message is the sender's name and a colon on its own line, then ``时间:`` (the
exporting machine's local time → ``--tz``), an optional ``类型:``, ``内容:``
whose text may run over several lines, then optional ``资源:`` (with ``  -
kind: file`` lines), ``提及:`` and ``回复:`` lines. There are no QQ numbers and
no message ids: the sender is known by name, ids are content hashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from qunyun.events import GroupRef
from qunyun.importers._cjk import DuplicateCounter, parse_local_time, sniff_encoding
from qunyun.importers.base import (
    CountingReader,
    ImportOptions,
    InputFile,
    Record,
    Rejected,
    open_text,
    stable_id,
    time_key,
)
from qunyun.importers.qq_nt_content import (
    GRAYTIP_CODE_RE,
    NtMessage,
    events,
    group_from_label,
    group_ref,
    text_kinds,
)

BANNER = "QQ聊天记录导出文件"
_TOOL_RE = re.compile(r"^\[QQChatExporter\b")
_TIME_RE = re.compile(r"^时间[:：] ?(?P<t>\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}(?::\d{2})?)\s*$")
_TIME_ANY_RE = re.compile(r"^时间[:：] ?(?P<t>.*?)\s*$")
_TIME_AHEAD_RE = re.compile(r"^时间[:：] ?\S*\d")
_SENDER_RE = re.compile(r"^(?P<name>\S.*?)[:：]\s*$")
_RULE_RE = re.compile(r"^={20,}\s*$")
_RES_RE = re.compile(r"^资源[:：] ?\d+ ?个文件\s*$")
_RES_ITEM_RE = re.compile(r"^\s+- (?P<kind>[\w-]+)[:：] ?(?P<file>.*?)\s*$")
# "[image消息]", "[image、video消息]": a message with resources and no text
_RES_ONLY_RE = re.compile(r"^\[(?P<kinds>[a-z_]+(?:、[a-z_]+)*)消息\]$")
_NO_TEXT = frozenset({"[无文本内容]"})
_PRIVATE = frozenset({"私聊", "临时会话"})


def looks_like_qce_txt(head: str) -> int:
    """0-100: how much a file's first characters look like a QCE TXT export."""
    lines = head.splitlines()[:40]
    banner = any(ln.strip() == BANNER for ln in lines)
    tool = any(_TOOL_RE.match(ln) for ln in lines)
    if banner and (tool or any(ln.startswith("聊天名称") for ln in lines)):
        return 96
    blocks = sum(
        1
        for a, b in zip(head.splitlines(), head.splitlines()[1:], strict=False)
        if _SENDER_RE.match(a) and _TIME_RE.match(b)
    )
    return 70 if blocks >= 2 and "\n内容: " in head else 0


@dataclass
class _Pending:
    line: int
    name: str
    time_text: str
    body: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    reply: str | None = None
    in_trailer: bool = False
    seen_content: bool = False


class _Reader:
    def __init__(self, inp: InputFile, options: ImportOptions) -> None:
        self.inp = inp
        self.options = options
        self.title: str | None = None
        self.group: GroupRef | None = None
        self.private = group_from_label(inp.label)[1]
        self.pending: _Pending | None = None
        self.footer = False
        self.dups = DuplicateCounter()

    def _group(self) -> GroupRef:
        if self.group is None:
            self.group = group_ref(self.inp.label, self.title, self.options.group)
        return self.group

    def feed(self, lineno: int, line: str, nxt: str | None) -> Iterator[Record]:
        if self.footer:
            return
        if nxt is not None and _SENDER_RE.match(line) and _TIME_AHEAD_RE.match(nxt):
            yield from self.flush()
            self.pending = _Pending(lineno, _SENDER_RE.match(line)["name"], "")  # type: ignore[index]
            return
        p = self.pending
        if p is None:
            self._header(line)
            return
        if not p.time_text and (m := _TIME_ANY_RE.match(line)) and not p.body:
            p.time_text = m["t"]
            return
        if _RULE_RE.match(line) and nxt is not None and nxt.strip() == "导出完成":
            yield from self.flush()
            self.footer = True
            return
        if not p.seen_content:
            if line.startswith(("类型:", "类型：")):
                return
            if line.startswith(("内容:", "内容：")):
                p.seen_content = True
                p.body.append(line[3:].removeprefix(" "))
                return
        if _RES_RE.match(line):
            p.in_trailer = True
            return
        if p.in_trailer and (m := _RES_ITEM_RE.match(line)):
            p.kinds.append(m["kind"])
            if m["file"]:
                p.files.append(m["file"])
            return
        if line.startswith(("提及:", "提及：")) and (p.in_trailer or p.seen_content):
            p.in_trailer = True
            p.mentions = [n.strip() for n in line[3:].split(",") if n.strip()]
            return
        if line.startswith(("回复:", "回复：")) and (p.in_trailer or p.seen_content):
            p.in_trailer = True
            p.reply = line[3:].strip()
            return
        if not p.in_trailer:
            p.body.append(line)

    def _header(self, line: str) -> None:
        for key in ("聊天名称", "聊天类型"):
            if line.startswith((f"{key}:", f"{key}：")):
                value = line[len(key) + 1 :].strip()
                if key == "聊天名称":
                    self.title = value or None
                elif value in _PRIVATE:
                    self.private = True

    def flush(self) -> Iterator[Record]:
        p, self.pending = self.pending, None
        if p is None:
            return
        try:
            ts = parse_local_time(p.time_text, self.options.tz)
        except ValueError as exc:
            yield Rejected(self.inp.label, str(exc), line=p.line + 1, field="时间")
            return
        while p.body and not p.body[-1].strip():
            p.body.pop()
        text = "\n".join(p.body).strip()
        yield from self._events(p, ts, text)

    def _events(self, p: _Pending, ts: datetime, text: str) -> Iterator[Record]:
        group = self._group()
        kinds = list(p.kinds)
        is_system = text == "[系统消息]" or bool(GRAYTIP_CODE_RE.match(text))
        if m := _RES_ONLY_RE.match(text):
            kinds += m["kinds"].split("、")
            text = ""
        elif text in _NO_TEXT or text == "[表情消息]":
            kinds += ["face"] if text == "[表情消息]" else []
            text = ""
        kinds += text_kinds(text)
        msg = NtMessage(
            ts=ts,
            sender_id=p.name,
            sender_name=p.name,
            text=text,
            kinds=kinds,
            files=p.files,
            mentions=p.mentions,
            is_system=is_system,
        )
        if p.reply is not None:
            msg.kinds.append("reply")
            msg.extra["reply_quote"] = p.reply
        key = stable_id(group.external_id, ts.isoformat(), p.name, text, p.reply, *p.files)
        n = self.dups.occurrence(ts, key)
        eid = f"{group.external_id}:{time_key(ts)}:{key if n == 0 else stable_id(key, n)}"
        yield from events(msg, group, eid)


def records(inp: InputFile, raw: CountingReader, options: ImportOptions) -> Iterator[Record]:
    reader = _Reader(inp, options)
    try:
        text = open_text(raw, sniff_encoding(inp.head()))  # type: ignore[arg-type]
        prev: str | None = None
        prev_no = 0
        for lineno, line in enumerate(text, start=1):
            line = line.rstrip("\r\n").lstrip("\ufeff")
            if prev is not None:
                yield from reader.feed(prev_no, prev, line)
                if reader.private:
                    yield _skipped(inp)
                    return
            prev, prev_no = line, lineno
        if prev is not None:
            yield from reader.feed(prev_no, prev, None)
        yield from reader.flush()
    finally:
        raw.close()


def _skipped(inp: InputFile) -> Rejected:
    return Rejected(
        inp.label, "a private chat, not a group: skipped", field="聊天类型", skipped=True
    )
