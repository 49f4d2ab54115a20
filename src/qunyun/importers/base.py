"""The contract every chat-export importer implements, and the pieces they share.

An importer turns an export (a file, a folder or a zip) into a stream of
:class:`~qunyun.events.Event` and :class:`Rejected` records, one
:class:`SourceFile` at a time so the CLI can report per file. It never touches
the store: translating and storing are separate jobs, which keeps importers
testable on their own and lets the store batch writes however it likes.

Importers stream: memory must not grow with the size of the export.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Protocol

from qunyun.events import Event


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read; the rest of the file still is.

    ``line`` is 1-based where the format has lines; ``record`` says which record
    otherwise (``"messages[41]"``, ``"id 1234"``); ``field`` names the bad field.
    """

    file: str
    message: str
    line: int | None = None
    record: str | None = None
    field: str | None = None
    #: not an error but something deliberately left out (a personal chat in a
    #: whole-account export): reported, and does not abort ``--strict``
    skipped: bool = False

    def where(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.record is not None:
            parts.append(self.record)
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


Record = Event | Rejected


class BadField(Exception):
    """Raised inside an importer for one bad field; caught and turned into a Rejected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class SourceFile:
    """One input file of an export and the records read from it (lazily)."""

    label: str
    records: Iterator[Record]
    size: int | None = None
    position: Callable[[], int] = field(default=lambda: 0)


@dataclass(frozen=True)
class ImportOptions:
    """What the user told ``qunyun import`` beyond the path.

    ``tz`` is used for formats that carry only local wall-clock times; ``group``
    names the group for formats whose files don't (a WhatsApp .txt, a QQ file of
    one chat); ``platform_hint`` is unused by most importers.
    """

    tz: tzinfo
    group: str | None = None


class Importer(Protocol):
    #: format name used by ``--format`` (``telegram``, ``whatsapp`` …)
    name: str
    #: the platform its identities and groups belong to
    platform: str
    #: one line for ``qunyun import --help`` / ``qunyun formats``
    description: str

    def detect(self, path: Path) -> int:
        """How sure we are that ``path`` is this format: 0 (no) … 100 (certain).

        Must be cheap: peek at names and the first few KB only.
        """
        ...

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        """The export's input files, each with its stream of records."""
        ...


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class InputFile:
    """A file inside a folder or a zip, openable as bytes."""

    label: str  # path as shown to the user (zip members as ``archive.zip!member``)
    name: str  # path relative to the export's root, with forward slashes
    size: int
    opener: Callable[[], IO[bytes]]

    def open(self) -> IO[bytes]:
        return self.opener()

    def head(self, n: int = 4096) -> bytes:
        with self.open() as fh:
            return fh.read(n)


def list_inputs(path: Path) -> list[InputFile]:
    """Every regular file of a file, a folder (recursively) or a zip archive, sorted."""
    if path.is_dir():
        out = []
        for p in sorted(path.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                out.append(_disk_file(p, p.relative_to(path).as_posix()))
        return out
    if path.is_file() and zipfile.is_zipfile(path):
        zf = zipfile.ZipFile(path)
        out = []
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir() or info.filename.split("/")[-1].startswith("."):
                continue
            out.append(
                InputFile(
                    label=f"{path}!{info.filename}",
                    name=info.filename,
                    size=info.file_size,
                    opener=lambda i=info: zf.open(i),  # type: ignore[misc]
                )
            )
        return out
    if path.is_file():
        return [_disk_file(path, path.name)]
    return []


def _disk_file(p: Path, name: str) -> InputFile:
    return InputFile(label=str(p), name=name, size=p.stat().st_size, opener=lambda: p.open("rb"))


class CountingReader(io.RawIOBase):
    """Wraps a binary file and counts bytes read, for progress bars."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def position(self) -> int:
        """Bytes read so far: a ready-made ``SourceFile.position``."""
        return self.count

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


class LazyPosition:
    """``SourceFile.position`` for a file whose reader is opened later, inside the
    records generator: bytes read so far, 0 before it is opened."""

    def __init__(self) -> None:
        self.reader: CountingReader | None = None

    def __call__(self) -> int:
        return self.reader.count if self.reader is not None else 0


def open_text(fh: IO[bytes], encoding: str = "utf-8-sig") -> io.TextIOWrapper:
    """Text over a binary stream; ``utf-8-sig`` drops the BOM that Windows tools write."""
    return io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline=None)


# --------------------------------------------------------------------------- helpers


def stable_id(*parts: object) -> str:
    """A short deterministic id for formats without message ids (WhatsApp, QQ, IRC).

    Built from the record's own content so that re-importing the same file, or an
    overlapping later export, yields the same ``source_event_id``.
    """
    h = hashlib.blake2b(digest_size=10)
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def time_key(when: datetime | str) -> str:
    """The time part that leads an id built by :func:`stable_id`: ``20240105214105``.

    A hash alone scatters a file's events over the whole ``(source, source_event_id)``
    index, so every commit of an import rewrites pages all over it; led by the time,
    an export's ids arrive in index order and its pages are written once (a 1M-line
    WhatsApp import ran 17 % faster). Deterministic, so re-imports still match.
    """
    if isinstance(when, datetime):
        return when.strftime("%Y%m%d%H%M%S")
    return "".join(c for c in when if c.isdigit())[:14]


_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'，。！？、）》】]+")


def find_urls(text: str) -> list[str]:
    """URLs in free text (Chinese punctuation ends a URL, as people type it)."""
    return [u.rstrip(".,;:!?)]}") for u in _URL_RE.findall(text)]


_MENTION_RE = re.compile(r"(?:^|(?<=\s))@([^\s@,，:：]{1,64})")


def find_mentions(text: str) -> list[str]:
    """``@name`` mentions in free text, as typed (WeChat/QQ/WhatsApp style)."""
    return _MENTION_RE.findall(text)


def collect(
    importer: Importer, path: Path, options: ImportOptions
) -> tuple[list[Event], list[Rejected]]:
    """Read a whole (small) export into lists; for tests and small tools only."""
    events: list[Event] = []
    rejected: list[Rejected] = []
    for sf in importer.files(path, options):
        for rec in sf.records:
            if isinstance(rec, Event):
                events.append(rec)
            else:
                rejected.append(rec)
    return events, rejected
