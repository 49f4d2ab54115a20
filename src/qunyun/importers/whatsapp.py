"""WhatsApp "Export chat" text files → events.

An export is one ``.txt`` (Android: ``WhatsApp Chat with <Group>.txt``; iOS:
``_chat.txt`` inside ``WhatsApp Chat - <Group>.zip``), optionally zipped with
its media, or a folder holding such files. Each line starting with a date is a
new message or system notice; other lines continue the previous message.

The export carries no group id, no user ids and no message ids, so:

* the group is named by ``--group``, else by the file name, else by the zip or
  folder name, and its ``external_id`` is a hash of that name (renaming the file
  before a second import makes it a different group);
* members are identified by the name (or phone number) the exporting phone showed;
* ``source_event_id`` is ``<group id>:<hash of local time, author, text,
  occurrence>`` so re-imports and overlapping later exports give the same ids.

Times are local wall-clock times read with ``options.tz``. The day/month order
is decided per file by :func:`whatsapp_lines.detect_order` in a first pass that
stops as soon as the file has shown enough evidence.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from hashlib import blake2b
from pathlib import Path, PurePosixPath
from typing import Any

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind, MsgType
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
)
from qunyun.importers.whatsapp_lines import HEADER_RE, BadStamp, DateOrder, detect_order, stamp
from qunyun.importers.whatsapp_system import (
    SYSTEM_IN_AUTHOR,
    SystemAction,
    classify_body,
    classify_system,
    is_plain,
    looks_like_system,
)

PLATFORM = "whatsapp"

#: File (or zip/folder) names WhatsApp gives an export, per app language.
_NAME_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^WhatsApp Chat with (.+)$",
        r"^WhatsApp Chat - (.+)$",
        r"^WhatsApp[- ]Chat mit (.+)$",
        r"^与(.+?)的\s*WhatsApp\s*聊天$",
        r"^與(.+?)的\s*WhatsApp\s*對話$",
        r"^Chat de WhatsApp con (.+)$",
        r"^Conversa do WhatsApp com (.+)$",
        r"^Discussion WhatsApp avec (.+)$",
        r"^Чат WhatsApp с (.+)$",
        r"^Chat WhatsApp dengan (.+)$",
    )
)
_COPY_SUFFIX = re.compile(r"\s*\(\d+\)$")
#: Bidi controls WhatsApp wraps names and phone numbers in, and the "~ " it
#: puts before a name that is not a saved contact.
_NAME_JUNK = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PHONE = re.compile(r"^\+?[\d\s().\-\u00a0]{7,}$")
#: The exporting user as system lines name them (subject and object forms).
_SELF_NAMES = frozenset(
    {
        *("You", "you", "你", "您", "Du", "du", "dich", "Dich"),
        *("Se te", "Tú", "tú", "te", "Você", "você", "Vous", "vous"),
        *("Вы", "вы", "вас", "Вас", "Anda", "anda"),
    }
)
_SELF_ID = "~you"
_ISOLATED_MENTION = re.compile(r"@\u2068([^\u2069]{1,64})\u2069")
_ENCRYPTION = re.compile(
    r"end-to-end encrypted|端到端的?加密|端對端的?加密|Ende-zu-Ende|de extremo a extremo|"
    r"de ponta a ponta|de bout en bout|сквозным шифрованием|terenkripsi secara end-to-end",
    re.IGNORECASE,
)
_MAX_NAMES = 50_000


def group_name_from(name: str) -> str | None:
    """The chat name inside an export's file, zip or folder name, if it follows WhatsApp's."""
    stem = PurePosixPath(name).name
    for ext in (".txt", ".zip"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    stem = _COPY_SUFFIX.sub("", stem).strip()
    for pattern in _NAME_PATTERNS:
        m = pattern.match(stem)
        if m:
            return m.group(1).strip()
    return None


def group_ref(title: str) -> GroupRef:
    """A GroupRef keyed by a hash of the name: WhatsApp exports carry no group id."""
    key = " ".join(title.split()).casefold()
    return GroupRef(PLATFORM, "g" + stable_id("whatsapp-group", key), title)


def _clean_name(raw: str) -> str:
    name = _NAME_JUNK.sub("", raw).strip()
    if name.startswith("~"):
        name = name[1:].lstrip(" \u00a0\u202f")
    return name


@dataclass(slots=True)
class _Pending:
    """The message being read: its header and the lines seen so far."""

    lineno: int
    ts: datetime
    wall: str  # local wall-clock time, ISO, hashed into the id
    tkey: str  # the id's leading time part (:func:`time_key` of ``wall``)
    author: str | None
    first: str
    more: list[str] | None = None

    def text(self) -> str:
        if self.more is None:
            return self.first
        return "\n".join([self.first, *self.more])


def _id_hash(wall: str, author: str, text: str, n: int) -> str:
    """Same digest as ``stable_id(wall, author, text, n)``, in one call (hot path)."""
    data = f"{wall}\x1f{author}\x1f{text}\x1f{n}\x1f".encode("utf-8", "surrogatepass")
    return blake2b(data, digest_size=10).hexdigest()


_NOTICE_STARTS = (
    "Messages and calls",
    "Messages to this",
    "Nachrichten und Anrufe",
    "消息和通话",
    "訊息與通話",
    "你发送给自己的消息",
    "Los mensajes y las llamadas",
    "As mensagens e",
    "Les messages et les appels",
    "Сообщения и звонки",
    "Pesan dan panggilan",
)
_TEXT = MsgType.TEXT.value
_LINK_TYPE = MsgType.LINK.value


@dataclass
class _Parser:
    """Turns the lines of one export file into records; keeps only small state."""

    label: str
    group: GroupRef
    order: DateOrder
    tz: tzinfo
    known: set[str] = field(default_factory=set)
    idents: dict[str, IdentityRef] = field(default_factory=dict)
    stamps: dict[str, tuple[datetime, str, str] | BadStamp] = field(default_factory=dict)
    occ: dict[tuple[str, str | None, str], int] = field(default_factory=dict)
    occ_wall: str = ""

    def run(self, lines: Iterable[str]) -> Iterator[Record]:
        match = HEADER_RE.match
        pending: _Pending | None = None
        skipping = False
        for lineno, line in enumerate(lines, 1):
            if line[-1:] == "\n":
                line = line[:-1]
            m = match(line)
            if m is None:
                if pending is not None:
                    if pending.more is None:
                        pending.more = [line]
                    else:
                        pending.more.append(line)
                elif not skipping and line.strip("\u200e\ufeff \t\r"):
                    yield Rejected(
                        self.label,
                        "text before the first message has no timestamp",
                        line=lineno,
                        field="timestamp",
                    )
                continue
            if pending is not None:
                out = self._emit(pending)
                if isinstance(out, Event):
                    yield out
                else:
                    yield from out
                pending = None
            when = self._stamp(m)
            if isinstance(when, BadStamp):
                skipping = True
                yield Rejected(self.label, when.message, line=lineno, field=when.field)
                continue
            skipping = False
            author, text = self._split(line[m.end() :])
            ts, wall, tkey = when
            pending = _Pending(lineno, ts, wall, tkey, author, text)
        if pending is not None:
            out = self._emit(pending)
            if isinstance(out, Event):
                yield out
            else:
                yield from out

    # ------------------------------------------------------------------ reading

    def _stamp(self, m: re.Match[str]) -> tuple[datetime, str, str] | BadStamp:
        """(time, ISO wall-clock time, its id key); cached: messages mostly share a minute."""
        key = m.group(0)
        hit = self.stamps.get(key)
        if hit is None:
            ts = stamp(m, self.order, self.tz)
            if isinstance(ts, BadStamp):
                hit = ts
            else:
                wall = ts.replace(tzinfo=None).isoformat()  # YYYY-MM-DDTHH:MM:SS
                # = time_key(wall), its digits, without a call per character
                key14 = wall[:4] + wall[5:7] + wall[8:10] + wall[11:13] + wall[14:16] + wall[17:19]
                hit = (ts, wall, key14)
            if len(self.stamps) > 4096:
                self.stamps.clear()
            self.stamps[key] = hit
        return hit

    def _split(self, body: str) -> tuple[str | None, str]:
        """(author, text) of a line's body; author None for a system line."""
        idx = body.find(": ")
        if idx <= 0:
            if body.endswith(":") and body[:-1] in self.known:  # empty message
                return body[:-1], ""
            return None, body
        author = body[:idx]
        known = self.known
        if author not in known and SYSTEM_IN_AUTHOR.search(author):
            return None, body
        nxt = body.find(": ", idx + 2)
        while nxt > 0:  # a known name that itself contains ": " wins
            if body[:nxt] in known:
                idx = nxt
            nxt = body.find(": ", nxt + 2)
        author = body[:idx]
        if author not in known:
            if len(known) > _MAX_NAMES:
                known.clear()
            known.add(author)
        return author, body[idx + 2 :]

    def _ident(self, raw: str) -> IdentityRef:
        ref = self.idents.get(raw)
        if ref is None:
            name = _clean_name(raw)
            if name in _SELF_NAMES:
                ref = IdentityRef(PLATFORM, _SELF_ID, name)
            elif _PHONE.match(name):
                digits = "".join(c for c in name if c.isdigit())
                ref = IdentityRef(PLATFORM, ("+" if name.startswith("+") else "") + digits, name)
            else:
                ref = IdentityRef(PLATFORM, name, name)
            if len(self.idents) > _MAX_NAMES:
                self.idents.clear()
            self.idents[raw] = ref
        return ref

    def _is_known(self, name: str) -> bool:
        """Whether a name was seen before, as written or behind the "~ " of a non-contact."""
        known = self.known
        return name in known or f"~\u202f{name}" in known or f"~ {name}" in known

    def _remember(self, name: str) -> None:
        if len(self.known) < _MAX_NAMES:
            self.known.add(name)

    def _sid(self, wall: str, tkey: str, author: str | None, text: str) -> str:
        """Stable id; the counter tells apart identical lines at the same time.

        Counters are kept for the latest time only (and the few before it when
        a clock went backwards), so memory stays flat.
        """
        if wall > self.occ_wall or len(self.occ) > 10_000:
            self.occ.clear()
            self.occ_wall = wall
        key = (wall, author, text)
        n = self.occ.get(key, 0)
        self.occ[key] = n + 1
        digest = _id_hash(wall, author or "", text, n)
        return f"{self.group.external_id}:{tkey}:{digest}"

    # ------------------------------------------------------------------ events

    def _emit(self, p: _Pending) -> Event | list[Event]:
        text = p.text()
        sid = self._sid(p.wall, p.tkey, p.author, text)
        if p.author is None:
            return self._system(p, sid, text)
        if text[:1] == "\u200e" or p.author == self.group.title or text.startswith(_NOTICE_STARTS):
            stripped = text.lstrip("\u200e")
            if looks_like_system(stripped):  # iOS: "[…] Group: ‎X added Y"
                return self._system(p, sid, stripped)
        if is_plain(text):
            shown = text.strip()
            payload: dict[str, Any] = {"type": _TEXT, "text": shown} if shown else {"type": _TEXT}
            if "@" in shown or "://" in shown or "www." in shown:
                self._links(payload, shown, plain=True)
            return Event(
                PLATFORM, sid, Kind.MESSAGE, p.ts, self.group, self._ident(p.author), None, payload
            )
        return self._message(p, sid, text)

    def _links(self, payload: dict[str, Any], shown: str, plain: bool) -> None:
        if "@" in shown:
            mentions = _ISOLATED_MENTION.findall(shown) or find_mentions(shown)
            if mentions:
                payload["mentions"] = [_clean_name(x) for x in mentions]
        if "://" in shown or "www." in shown:
            urls = find_urls(shown)
            if urls:
                payload["urls"] = urls
                if plain and shown in urls:
                    payload["type"] = _LINK_TYPE

    def _message(self, p: _Pending, sid: str, text: str) -> Event:
        body = classify_body(text)
        actor = self._ident(p.author or "")
        if body.deleted:
            payload: dict[str, Any] = {"service": "message_deleted"}
            return Event(PLATFORM, sid, Kind.DELETE, p.ts, self.group, actor, payload=payload)
        payload = {"type": body.type.value}
        shown = body.text.strip()
        if shown:
            payload["text"] = shown
            self._links(payload, shown, plain=body.type is MsgType.TEXT)
        if body.media:
            payload["media"] = body.media
        if body.extra:
            payload["extra"] = body.extra
        return Event(PLATFORM, sid, Kind.MESSAGE, p.ts, self.group, actor, payload=payload)

    def _system(self, p: _Pending, sid: str, text: str) -> list[Event]:
        text = _NAME_JUNK.sub("", text)
        action = classify_system(text, self._is_known)
        for name in (action.actor, *action.targets):
            if name:
                self._remember(name)
        actor = self._ident(action.actor) if action.actor else None
        if action.kind in (Kind.JOIN, Kind.LEAVE, Kind.KICK):
            return list(self._member_events(p, sid, action, actor))
        payload: dict[str, Any] = {"service": action.service, "text": text.strip()}
        target = None
        if action.kind is Kind.TITLE_CHANGE or (action.title and action.service == "group_created"):
            payload["title"] = action.title
            if action.old is not None and action.kind is Kind.TITLE_CHANGE:
                payload["extra"] = {"old_title": action.old}
        elif action.kind is Kind.RENAME:
            payload["old_name"] = action.old
            payload["new_name"] = action.title
            target = self._ident(action.title or "")
        return [Event(PLATFORM, sid, action.kind, p.ts, self.group, actor, target, payload)]

    def _member_events(
        self, p: _Pending, sid: str, action: SystemAction, actor: IdentityRef | None
    ) -> Iterator[Event]:
        for n, name in enumerate(action.targets):
            target = self._ident(name)
            payload: dict[str, Any] = {"service": action.service}
            who = actor
            if action.kind is Kind.JOIN:
                payload["method"] = (action.method or JoinMethod.UNKNOWN).value
                if action.method is not JoinMethod.INVITED_BY:
                    who = target  # a self-join: the member is their own actor
            elif action.kind is Kind.LEAVE:
                who = target
            yield Event(PLATFORM, f"{sid}:{n}", action.kind, p.ts, self.group, who, target, payload)


# --------------------------------------------------------------------------- files


def _head_text(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace")


def _header_hits(head: str, lines: int = 12) -> int:
    """How many of the first lines start like a WhatsApp message."""
    hits = 0
    for line in head.splitlines()[:lines]:
        if HEADER_RE.match(line):
            hits += 1
    return hits


def _is_chat(inp: InputFile) -> bool:
    if not inp.name.lower().endswith(".txt"):
        return False
    try:
        head = _head_text(inp.head(4096))
    except OSError:
        return False
    return _header_hits(head) > 0


def _records(
    inp: InputFile, group: GroupRef, tz: tzinfo, progress: LazyPosition
) -> Iterator[Record]:
    with inp.open() as fh:
        order = detect_order(open_text(fh), tz)
    with inp.open() as raw:
        reader = CountingReader(raw)
        progress.reader = reader
        buffered = io.BufferedReader(reader, buffer_size=1 << 16)
        yield from _Parser(inp.label, group, order, tz).run(open_text(buffered))


def _title_for(inp: InputFile, root: Path, options: ImportOptions) -> str:
    if options.group:
        return options.group
    own = group_name_from(inp.name)
    if own:
        return own
    container = root if root.is_dir() or zipfile.is_zipfile(root) else root.parent
    parent = PurePosixPath(inp.name).parent.name
    for candidate in (parent, container.name):
        if candidate:
            named = group_name_from(candidate)
            if named:
                return named
    if PurePosixPath(inp.name).name.lower() == "_chat.txt":
        return parent or Path(container.name).stem or "WhatsApp chat"
    return PurePosixPath(inp.name).stem


class WhatsAppImporter:
    """Reads WhatsApp "Export chat" .txt files, zipped or not."""

    name = "whatsapp"
    platform = PLATFORM
    description = "WhatsApp 'Export chat' .txt (Android/iOS, any language), a .zip or a folder"

    def detect(self, path: Path) -> int:
        try:
            if path.is_dir():
                return self._detect_names([p.name for p in path.iterdir()], 90)
            if path.is_file() and zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    return self._detect_names(zf.namelist(), 95)
            if path.is_file():
                with path.open("rb") as fh:
                    head = _head_text(fh.read(4096))
                return self._detect_text(path.name, head)
        except (OSError, zipfile.BadZipFile):
            return 0
        return 0

    @staticmethod
    def _detect_names(names: list[str], score: int) -> int:
        for name in names:
            base = PurePosixPath(name).name
            if base == "_chat.txt" or (base.lower().endswith(".txt") and group_name_from(base)):
                return score
        return 0

    @staticmethod
    def _detect_text(name: str, head: str) -> int:
        hits = _header_hits(head)
        if hits == 0:
            return 0
        score = 45 + 10 * min(hits, 3)
        if _ENCRYPTION.search(head) or group_name_from(name) or name == "_chat.txt":
            score += 25
        return min(score, 100)

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        inputs = list_inputs(path)
        chats = [inp for inp in inputs if _is_chat(inp)]
        if not chats:
            raise ImportFormatError(
                f"{path}: no WhatsApp chat export found (expected lines like "
                f"'31/12/2020, 21:41 - Name: text' or '[31/12/20, 21:41:05] Name: text')",
                zh=f"{path}：未找到 WhatsApp 聊天导出（应为“31/12/2020, 21:41 - 名字: 内容”"
                f"或“[31/12/20, 21:41:05] 名字: 内容”这样的行）",
                code="import_format",
            )
        for inp in chats:
            group = group_ref(_title_for(inp, path, options))
            progress = LazyPosition()
            yield SourceFile(
                label=inp.label,
                records=_records(inp, group, options.tz, progress),
                size=inp.size,
                position=progress,
            )


IMPORTER = WhatsAppImporter()
