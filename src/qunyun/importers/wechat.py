"""WeChat group history as written by the open-source PC export tools.

WeChat itself has no export, so people use tools that read the decrypted PC
database and write one file per chat:

* **PyWxDump** CSV: ``id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime``
  (older releases: ``…,room_name,content,CreateTime`` with a JSON ``content``),
  and its JSON export (a list of the same objects, plus ``users.json``).
* **WeChatMsg / 留痕 (MemoTrace)** CSV: ``localId,TalkerId,Type,SubType,IsSender,
  CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender`` (UTF-8 with BOM).

Rows are mapped to :class:`~qunyun.importers.wechat_events.WxRow` here and
turned into events in :mod:`~qunyun.importers.wechat_events`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import ijson

from qunyun.errors import ImportFormatError
from qunyun.events import GroupRef, IdentityRef
from qunyun.importers._cjk import DuplicateCounter, decode_head, parse_local_time, sniff_encoding
from qunyun.importers.base import (
    CountingReader,
    ImportOptions,
    InputFile,
    Record,
    Rejected,
    SourceFile,
    list_inputs,
    open_text,
    stable_id,
)
from qunyun.importers.wechat_events import (
    PLATFORM,
    WxRow,
    row_events,
    split_sender_prefix,
    type_from_code,
    type_from_name,
)

PYWXDUMP_CSV = "pywxdump-csv"
PYWXDUMP_JSON = "pywxdump-json"
WECHATMSG_CSV = "wechatmsg-csv"

_PYWXDUMP_HEAD = ("id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name")
_WECHATMSG_HEAD = ("localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime")
_UNKNOWN_SENDERS = frozenset({"", "未知", "系统"})
_ME = "我"


def variant_of(head: str) -> str | None:
    """Which tool wrote a file, judged from its first characters."""
    first = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    cols = tuple(c.strip() for c in first.split(","))
    if cols[: len(_PYWXDUMP_HEAD)] == _PYWXDUMP_HEAD and "CreateTime" in cols:
        return PYWXDUMP_CSV
    if cols[: len(_WECHATMSG_HEAD)] == _WECHATMSG_HEAD and "StrContent" in cols:
        return WECHATMSG_CSV
    stripped = head.lstrip("\ufeff \r\n\t")
    if stripped.startswith("[") and all(f'"{k}"' in head for k in ("MsgSvrID", "type_name")):
        return PYWXDUMP_JSON
    return None


class WeChatImporter:
    name = "wechat"
    platform = PLATFORM
    description = "WeChat chats exported by PyWxDump (CSV/JSON) or WeChatMsg/留痕 (CSV)"

    def detect(self, path: Path) -> int:
        best = 0
        for inp in list_inputs(path)[:200]:
            if PurePosixPath(inp.name).suffix.lower() not in (".csv", ".json"):
                continue
            if variant_of(decode_head(inp.head())):
                best = 95
                break
        return best

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        inputs = list_inputs(path)
        found = [(inp, v) for inp in inputs if (v := variant_of(decode_head(inp.head())))]
        if not found:
            raise ImportFormatError(
                f"{path}: not a WeChat export (expected a PyWxDump or WeChatMsg/留痕 CSV or JSON)",
                zh=f"{path}：不是微信聊天记录导出文件"
                "（需要 PyWxDump 或 留痕/WeChatMsg 导出的 CSV/JSON）",
                code="not_wechat",
            )
        users = _load_users(inputs)
        for inp, variant in found:
            raw = CountingReader(inp.open())
            records = _records(inp, variant, raw, options, users)
            yield SourceFile(inp.label, records, inp.size, lambda r=raw: r.count)  # type: ignore[misc]


IMPORTER = WeChatImporter()


# ---------------------------------------------------------------- reading files


def _records(
    inp: InputFile,
    variant: str,
    raw: CountingReader,
    options: ImportOptions,
    users: Mapping[str, str],
) -> Iterator[Record]:
    ctx = _Context(inp, options, users)
    try:
        if variant == PYWXDUMP_JSON:
            yield from _json_records(raw, ctx)
        else:
            yield from _csv_records(raw, variant, ctx)
    finally:
        raw.close()


def _csv_records(raw: CountingReader, variant: str, ctx: _Context) -> Iterator[Record]:
    text = open_text(raw, sniff_encoding(ctx.inp.head()))  # type: ignore[arg-type]
    reader = csv.reader(text)
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    convert = _pywxdump_row if variant == PYWXDUMP_CSV else _wechatmsg_row
    end = reader.line_num
    for fields in reader:
        line, end = end + 1, reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if variant == WECHATMSG_CSV and len(header) == 12 and len(fields) == 9:
            # older WeChatMsg wrote Remark/NickName/Sender only for group chats: a private
            # chat's rows stop after StrTime under the same 12-column header
            fields = [*fields, "", "", ""]
        if len(fields) != len(header):
            yield ctx.reject(f"expected {len(header)} columns, found {len(fields)}", line=line)
            continue
        yield from convert(dict(zip(header, fields, strict=True)), ctx, line, None)


def _json_records(raw: CountingReader, ctx: _Context) -> Iterator[Record]:
    for i, item in enumerate(ijson.items(raw, "item", use_float=True)):
        where = f"item[{i}]"
        if not isinstance(item, dict):
            yield ctx.reject("not a message object", record=where)
            continue
        row = {k: "" if v is None else v for k, v in item.items()}
        yield from _pywxdump_row(row, ctx, None, where)


class _Context:
    """What the rows of one file share: its group fallback, the owner, duplicate numbering."""

    def __init__(self, inp: InputFile, options: ImportOptions, users: Mapping[str, str]) -> None:
        self.inp = inp
        self.options = options
        self.users = users
        self.fallback_id, self.fallback_title = _group_from_name(inp.name, options.group)
        self.dups = DuplicateCounter()
        self.self_ref = IdentityRef(PLATFORM, _ME, _ME)

    def reject(
        self,
        message: str,
        *,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> Rejected:
        return Rejected(self.inp.label, message, line=line, record=record, field=field)

    def group(self, room: str) -> GroupRef:
        if room:
            return GroupRef(PLATFORM, room, self.options.group or self.fallback_title)
        return GroupRef(PLATFORM, self.fallback_id, self.fallback_title)

    def event_id(self, group: GroupRef, msg_id: str, *key: object) -> str:
        if msg_id and msg_id.strip("0"):
            return f"{group.external_id}:{msg_id}"
        skey = stable_id(group.external_id, *key)
        n = self.dups.occurrence(key[0], skey)
        return f"{group.external_id}:{skey if n == 0 else stable_id(skey, n)}"

    def learn_self(self, sender: IdentityRef | None) -> None:
        """Notices say "你" for the exporting account; use its wxid once a sent row shows it."""
        if sender is not None and sender.external_id != _ME:
            self.self_ref = sender


_FOLDER_RE = re.compile(r"^(?P<title>.*?)\s*\((?P<id>[^()]+)\)$")
_PAGE_RE = re.compile(r"^(?P<id>.+?)_\d+_\d+$")


def _group_from_name(name: str, given: str | None) -> tuple[str, str | None]:
    """Group id and title from a file's path, for rows that don't name their chat.

    WeChatMsg/留痕 writes ``<备注>(<wxid or …@chatroom>)/<备注>.csv`` (older:
    ``<备注>_utf8.csv``); PyWxDump writes ``<wxid>/<wxid>_0_5000.csv``.
    """
    p = PurePosixPath(name)
    for part in reversed(p.parts[:-1]):
        m = _FOLDER_RE.match(part)
        if m:
            return m["id"], given or m["title"] or None
    stem = p.stem.removesuffix("_utf8")
    m = _PAGE_RE.match(stem)
    if m:
        return m["id"], given
    return given or stem, given or stem


def _load_users(inputs: list[InputFile]) -> dict[str, str]:
    """wxid -> display name from PyWxDump's users.json, when the export has one."""
    names: dict[str, str] = {}
    for inp in inputs:
        if PurePosixPath(inp.name).name != "users.json":
            continue
        with inp.open() as fh:
            for wxid, user in ijson.kvitems(fh, ""):
                if isinstance(user, dict):
                    shown = user.get("remark") or user.get("nickname") or ""
                    if shown:
                        names[str(wxid)] = str(shown)
    return names


# ---------------------------------------------------------------- row mapping


def _pywxdump_row(
    row: Mapping[str, Any], ctx: _Context, line: int | None, where: str | None
) -> Iterator[Record]:
    content, src = str(row.get("msg", "")), str(row.get("src", ""))
    if "content" in row and "msg" not in row:
        content, src = _legacy_content(row["content"])
    raw_time = row.get("CreateTime", "")
    if isinstance(raw_time, float) and raw_time.is_integer():
        raw_time = int(raw_time)  # a JSON number: unix seconds or milliseconds
    created = str(raw_time)
    try:
        ts = parse_local_time(created, ctx.options.tz)
    except ValueError as exc:
        yield ctx.reject(str(exc), line=line, record=where, field="CreateTime")
        return
    type_name = str(row.get("type_name", ""))
    group = ctx.group(str(row.get("room_name", "")).strip())
    is_sender = str(row.get("is_sender", "0")).strip() == "1"
    talker = str(row.get("talker", "")).strip()
    content, prefix_id = split_sender_prefix(
        content, None if talker in _UNKNOWN_SENDERS else talker
    )
    own = prefix_id and not prefix_id.endswith("@chatroom")
    if own and talker in _UNKNOWN_SENDERS and not is_sender:
        talker = str(prefix_id)
    sender = _sender(talker, ctx.users, is_sender)
    if is_sender:
        ctx.learn_self(sender)
    sid = sender.external_id if sender else ""
    eid = ctx.event_id(
        group, str(row.get("MsgSvrID", "")).strip(), created, sid, type_name, content
    )
    wx = WxRow(
        eid, ts, group, type_from_name(type_name), type_name, content, src, sender, ctx.self_ref
    )
    yield from row_events(wx)


def _wechatmsg_row(
    row: Mapping[str, str], ctx: _Context, line: int | None, where: str | None
) -> Iterator[Record]:
    try:
        kind, sub = int(row["Type"]), int(row["SubType"] or 0)
    except ValueError:
        yield ctx.reject(
            f"bad message type {row['Type']!r}/{row['SubType']!r}", line=line, field="Type"
        )
        return
    created = row["CreateTime"].strip() or row.get("StrTime", "")
    try:
        ts = parse_local_time(created, ctx.options.tz)
    except ValueError as exc:
        yield ctx.reject(str(exc), line=line, field="CreateTime")
        return
    is_sender = row["IsSender"].strip() == "1"
    wxid = row.get("Sender", "").strip()
    content, prefix_id = split_sender_prefix(row["StrContent"], wxid or None)
    if not wxid and prefix_id and not prefix_id.endswith("@chatroom") and not is_sender:
        wxid = prefix_id
    shown = (row.get("Remark", "") or row.get("NickName", "")).strip() or None
    sender: IdentityRef | None = IdentityRef(PLATFORM, wxid, shown) if wxid else None
    if sender is None and (is_sender or shown):
        sender = IdentityRef(PLATFORM, shown or _ME, shown or _ME)
    group = ctx.group("")
    if sender is None and not group.external_id.endswith("@chatroom"):
        # a private chat's row from the other side: the contact the folder is named after
        sender = IdentityRef(PLATFORM, group.external_id, group.title)
    if is_sender:
        ctx.learn_self(sender)
    eid = ctx.event_id(group, "", created, sender.external_id if sender else "", kind, sub, content)
    mt = type_from_code(kind, sub)
    wx = WxRow(eid, ts, group, mt, f"{kind}/{sub}", content, "", sender, ctx.self_ref)
    yield from row_events(wx)


def _sender(talker: str, users: Mapping[str, str], is_sender: bool) -> IdentityRef | None:
    if talker in _UNKNOWN_SENDERS:
        return IdentityRef(PLATFORM, _ME, _ME) if is_sender else None
    return IdentityRef(PLATFORM, talker, users.get(talker) or (talker if talker == _ME else None))


def _legacy_content(value: Any) -> tuple[str, str]:
    """Old PyWxDump CSVs hold ``{"src": …, "msg": …}`` as JSON text in one column."""
    if isinstance(value, dict):
        return str(value.get("msg", "")), str(value.get("src", ""))
    text = str(value)
    try:
        data = json.loads(text)
    except ValueError:
        return text, ""
    if isinstance(data, dict):
        return str(data.get("msg", "")), str(data.get("src", ""))
    return str(data), ""
