"""Telegram Desktop JSON exports: one chat's ``result.json`` or a whole-account export.

Telegram Desktop writes two shapes of ``result.json`` ("Export chat history" and
"Settings → Advanced → Export Telegram data", format *JSON*):

* one chat: ``{"name", "type", "id", "messages": [...]}``;
* the account: ``{"about", "personal_information", …, "chats": {"about", "list":
  [chat, …]}, "left_chats": {…}}``, each chat shaped as above.

Both are streamed with ijson's C backend, so a million-message file reads with
flat memory. A single chat, the common and big case, goes through the fastest
path ijson has (``items`` in C), after a tiny first pass that reads the chat's
name, type and id, which the exporter writes before ``messages``. An account
export is one pass over parse events that forwards each group chat's messages
to a C object builder and skips personal chats without building them.

Only group-like chats (basic groups, supergroups, channels) are imported: qunyun
is about communities. Personal chats, bots and Saved Messages are reported as one
:class:`Rejected` each, so the user sees what was left out, and are never read.
What a message *means* lives in :mod:`qunyun.importers.telegram_records`.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path, PurePosixPath
from typing import IO, Any

import ijson

from qunyun.errors import ImportFormatError
from qunyun.events import GroupRef
from qunyun.importers.base import (
    CountingReader,
    ImportOptions,
    InputFile,
    Record,
    Rejected,
    SourceFile,
    list_inputs,
)
from qunyun.importers.telegram_records import (
    GROUP_PREFIX,
    PLATFORM,
    Chat,
    chat_external_id,
)

try:
    _IJSON = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - the C backend ships in ijson's wheels
    _IJSON = ijson

_MAIN = "result.json"
_CHAT_KEYS = frozenset({"name", "type", "id", "messages"})
_ACCOUNT_KEYS = frozenset(
    {
        "about",
        "personal_information",
        "profile_pictures",
        "stories",
        "contacts",
        "frequent_contacts",
        "sessions",
        "web_sessions",
        "other_data",
        "chats",
        "left_chats",
    }
)
_CHAT_TYPES = frozenset(GROUP_PREFIX) | {
    "personal_chat",
    "bot_chat",
    "saved_messages",
    "replies",
    "verification_codes",
    "",
}
_LISTS = {"chats.list.item": "chats", "left_chats.list.item": "left_chats"}
#: What a damaged file or zip raises while detect() peeks at it.
_UNREADABLE = (OSError, ValueError, zipfile.BadZipFile, zlib.error)


class TelegramImporter:
    """Telegram Desktop's machine-readable (JSON) export, single chat or whole account."""

    name = "telegram"
    platform = PLATFORM
    description = "Telegram Desktop export, JSON format (result.json, its folder or a zip)"

    def detect(self, path: Path) -> int:
        try:
            inputs = list_inputs(path)
        except _UNREADABLE:
            return 0
        best = 0
        for inp in _candidates(path, inputs)[:3]:
            try:
                best = max(best, _score(_sniff(inp.head(8192))))
            except _UNREADABLE:
                continue
        if best == 0 and _html_export(inputs):
            return 20  # ours, in the wrong format: files() says how to re-export
        return best

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        inputs = list_inputs(path)
        chosen = _candidates(path, inputs)
        if not chosen:
            raise _no_export(path, inputs)
        shapes = [_sniff(inp.head(8192)) for inp in chosen]
        for inp, shape in zip(chosen, shapes, strict=True):
            if shape.kind is None:  # checked for all files before any is read
                raise ImportFormatError(
                    f"{inp.label}: not a Telegram Desktop JSON export (expected a chat with "
                    "name/type/id/messages, or a full data export with chats)",
                    zh=f"{inp.label}：不是 Telegram Desktop 的 JSON 导出文件",
                    code="import_format",
                )
        for inp, shape in zip(chosen, shapes, strict=True):
            stream = _Stream(inp)
            reader = _read_chat if shape.kind == "chat" else _read_account
            yield SourceFile(
                label=inp.label,
                records=reader(stream, options.tz),
                size=inp.size,
                position=stream.position,
            )


IMPORTER = TelegramImporter()


# --------------------------------------------------------------------------- finding input


def _candidates(path: Path, inputs: list[InputFile]) -> list[InputFile]:
    """Every ``result.json`` of a folder or zip; a file given directly whatever its name."""
    named = [i for i in inputs if PurePosixPath(i.name).name == _MAIN]
    if named:
        return sorted(named, key=lambda i: (i.name.count("/"), i.name))
    if len(inputs) == 1 and path.is_file() and inputs[0].label == str(path):
        return inputs
    return []


def _html_export(inputs: list[InputFile]) -> bool:
    for inp in inputs:
        if PurePosixPath(inp.name).name.startswith("messages") and inp.name.endswith(".html"):
            try:
                return b"Exported Data" in inp.head(2048)
            except OSError:
                return False
    return False


def _no_export(path: Path, inputs: list[InputFile]) -> ImportFormatError:
    if _html_export(inputs):
        return ImportFormatError(
            f"{path}: this is Telegram's HTML export; export again choosing "
            "'Machine-readable JSON' as the format",
            zh=f"{path}：这是 Telegram 的 HTML 导出；请重新导出，格式选择「Machine-readable JSON」",
            code="import_format",
        )
    return ImportFormatError(
        f"{path}: no result.json found (Telegram Desktop JSON export)",
        zh=f"{path}：没有找到 result.json（Telegram Desktop JSON 导出）",
        code="import_format",
    )


@dataclass
class _Shape:
    """What the first bytes of a file say about it."""

    kind: str | None  # "chat", "account" or None
    strong: bool = False


def _sniff(head: bytes) -> _Shape:
    keys: list[str] = []
    chat_type: object = None
    msg_keys: set[str] = set()
    try:
        for prefix, event, value in ijson.parse(io.BytesIO(head.removeprefix(b"\xef\xbb\xbf"))):
            if prefix == "" and event == "map_key":
                keys.append(value)
            elif prefix == "type" and event == "string":
                chat_type = value
            elif prefix == "messages.item" and event == "map_key":
                msg_keys.add(value)
    except ijson.JSONError:
        pass
    if not keys:
        return _Shape(None)
    if keys[0] == "about" and len(keys) > 1:
        return _Shape("account", strong=set(keys) <= _ACCOUNT_KEYS)
    if keys[0] in _CHAT_KEYS and set(keys) <= _CHAT_KEYS:
        if chat_type in _CHAT_TYPES:
            return _Shape("chat", strong=True)
        if msg_keys & {"date_unixtime", "from_id", "text_entities"}:
            return _Shape("chat")
    return _Shape(None)


def _score(shape: _Shape) -> int:
    if shape.kind is None:
        return 0
    return 95 if shape.strong else 60


class _Stream:
    """Opens an input for reading and remembers how far the main pass has got."""

    def __init__(self, inp: InputFile) -> None:
        self.inp = inp
        self.label = inp.label
        self._counter: CountingReader | None = None

    def position(self) -> int:
        return self._counter.count if self._counter is not None else 0

    def open(self, *, counted: bool = True) -> IO[bytes]:
        raw = CountingReader(self.inp.open())
        if counted:
            self._counter = raw
        buffered = io.BufferedReader(raw, buffer_size=1 << 16)
        if buffered.peek(3)[:3] == b"\xef\xbb\xbf":  # a BOM left by an editor
            buffered.read(3)
        return buffered


# --------------------------------------------------------------------------- one chat


def _read_header(stream: _Stream) -> dict[str, Any]:
    """The chat's name, type and id, read before ``messages`` (as the exporter writes).

    Only if ``id`` or ``type`` turns up after the messages does this read on to the
    end: one extra pass in that odd case, never memory.
    """
    header: dict[str, Any] = {}
    with stream.open(counted=False) as fh:
        for prefix, event, value in _IJSON.parse(fh):
            if prefix in ("name", "type", "id") and event in ("string", "number", "null"):
                header[prefix] = value
                if "messages" in header and "id" in header and "type" in header:
                    break
            elif prefix == "messages" and event == "start_array":
                header["messages"] = True
                if "id" in header and "type" in header:
                    break
    return header


def _read_chat(stream: _Stream, tz: tzinfo) -> Iterator[Record]:
    try:
        header = _read_header(stream)
    except ijson.JSONError as exc:
        yield Rejected(file=stream.label, record="file", message=f"invalid JSON: {exc}")
        return
    chat = _make_chat(stream.label, "messages", header, tz)
    if isinstance(chat, Rejected):
        yield chat
        return
    done = 0
    with stream.open() as fh:
        try:
            for raw in _IJSON.items(fh, "messages.item", use_float=True):
                yield from chat.records(done, raw)
                done += 1
        except ijson.JSONError as exc:
            yield _broken(stream.label, f"messages[{done}]", exc)
    yield from chat.finish()  # the member lists held until every name was seen


def _broken(label: str, record: str, exc: Exception) -> Rejected:
    return Rejected(
        file=label,
        record=record,
        message=f"invalid JSON, the rest of the file cannot be read: {str(exc).splitlines()[0]}",
    )


def _make_chat(label: str, where: str, header: dict[str, Any], tz: tzinfo) -> Chat | Rejected:
    """The chat to import, or why it is not imported."""
    chat_type = header.get("type")
    name = header.get("name")
    title = name if isinstance(name, str) else None
    record = where.removesuffix(".messages") if where != "messages" else "chat"
    if title:
        record += f" {title!r}"
    if chat_type is None:
        return Rejected(
            file=label,
            record=record,
            field="type",
            message="chat has no type before its messages; it cannot be read as a group",
        )
    if chat_type not in GROUP_PREFIX:
        what = chat_type if isinstance(chat_type, str) and chat_type else "chat of unknown type"
        return Rejected(
            file=label,
            record=record,
            field="type",
            message=f"{what} skipped: only groups, supergroups and channels are imported",
            skipped=True,
        )
    bare = header.get("id")
    if isinstance(bare, bool) or not isinstance(bare, int):
        return Rejected(
            file=label,
            record=record,
            field="id",
            message=f"chat id missing or not a number: {bare!r}",
        )
    # Telegram Desktop writes the bare id; a negative one is already in Bot API form.
    ext = str(bare) if bare < 0 else chat_external_id(str(chat_type), bare)
    group = GroupRef(PLATFORM, ext, title)
    return Chat(file=label, where=where, group=group, tz=tz)


# --------------------------------------------------------------------------- whole account


def _read_account(stream: _Stream, tz: tzinfo) -> Iterator[Record]:
    reader = _AccountReader(stream.label, tz)
    with stream.open() as fh:
        try:
            yield from reader.run(_IJSON.parse(fh, use_float=True))
        except ijson.JSONError as exc:
            yield _broken(stream.label, reader.position(), exc)
            if reader.chat is not None:  # the chat cut short keeps what it named
                yield from reader.chat.finish()


class _AccountReader:
    """Walks the parse events of an account export, one chat after another.

    Header events (``name``, ``type``, ``id``) are kept per chat; when the chat's
    ``messages`` array opens, its events go to a C object builder (group chats)
    or are passed over (everything else) until the array closes.
    """

    def __init__(self, label: str, tz: tzinfo) -> None:
        self.label = label
        self.tz = tz
        self.counts = {"chats": -1, "left_chats": -1}
        self.list_name = ""
        self.header: dict[str, Any] = {}
        self.index = 0
        #: the group chat whose messages are being read
        self.chat: Chat | None = None

    def position(self) -> str:
        return f"{self.list_name or 'chats'}.list[{max(0, self.counts.get(self.list_name, 0))}]"

    def run(self, events: Iterator[tuple[str, str, Any]]) -> Iterator[Record]:
        for prefix, event, value in events:
            item, _, key = prefix.rpartition(".")
            if item in _LISTS:
                if key in ("name", "type", "id") and event in ("string", "number", "null"):
                    self.header[key] = value
                elif key == "messages" and event == "start_array":
                    yield from self._messages(events, prefix)
            elif prefix in _LISTS and event == "start_map":
                self.list_name = _LISTS[prefix]
                self.counts[self.list_name] += 1
                self.header = {}

    def _messages(self, events: Iterator[tuple[str, str, Any]], prefix: str) -> Iterator[Record]:
        where = f"{self.position()}.messages"
        chat = _make_chat(self.label, where, self.header, self.tz)
        if isinstance(chat, Rejected):
            yield chat
            _skip_array(events, prefix)
            return
        built: list[Any] = ijson.sendable_list()
        builder = _IJSON.items_basecoro(built, prefix + ".item")
        index = 0
        self.chat = chat
        for ev in events:
            if ev[1] == "end_array" and ev[0] == prefix:
                self.chat = None
                yield from chat.finish()  # the member lists held until every name was seen
                return
            builder.send(ev)
            if built:
                for raw in built:
                    yield from chat.records(index, raw)
                    index += 1
                del built[:]


def _skip_array(events: Iterator[tuple[str, str, Any]], prefix: str) -> None:
    for p, event, _ in events:
        if event == "end_array" and p == prefix:
            return
