"""Small helpers shared by the Chinese-platform importers (WeChat, QQ).

Exports made on Chinese Windows come in UTF-8 (with or without BOM), UTF-16
(old QQ message manager) or GBK/GB18030 (a CSV re-saved by Excel), and carry
only local wall-clock times in a handful of spellings. These helpers keep that
guesswork in one place so both importers agree on it.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, tzinfo

_SNIFF_BYTES = 64 * 1024


def sniff_encoding(head: bytes) -> str:
    """The encoding of a text file judged from its first bytes.

    A BOM decides; otherwise UTF-8 if the head decodes as UTF-8 (a multi-byte
    character cut at the end of the head is allowed), else GB18030, a superset
    of GBK that can decode any byte sequence Chinese Windows writes.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head[:_SNIFF_BYTES], final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def decode_head(head: bytes) -> str:
    """The first bytes of a file as text, in whatever encoding they are in."""
    enc = sniff_encoding(head)
    return codecs.getincrementaldecoder(enc)(errors="replace").decode(head, final=False)


_LOCAL_TIME_RE = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?)?\s*$"
)


def parse_local_time(text: str, tz: tzinfo) -> datetime:
    """A wall-clock time as exports write it, made aware in ``tz``.

    Accepts ``2024-10-04 11:42:05``, ``2024/10/4 11:42`` (what Excel leaves
    after re-saving a CSV), ``2019-09-23 8:43:38 PM`` and unix seconds or
    milliseconds. Raises ``ValueError`` on anything else.
    """
    s = text.strip()
    if s.isdigit() and len(s) in (10, 13):
        secs = int(s) / 1000 if len(s) == 13 else int(s)
        return datetime.fromtimestamp(secs, tz=UTC)
    m = _LOCAL_TIME_RE.match(s)
    if not m:
        raise ValueError(f"not a date and time: {text!r}")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour, minute, sec = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    if m[7]:
        if not 1 <= hour <= 12:
            raise ValueError(f"not a 12-hour time: {text!r}")
        hour = hour % 12 + (12 if m[7].lower() == "pm" else 0)
    try:
        return datetime(year, month, day, hour, minute, sec, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"not a valid date and time: {text!r} ({exc})") from None


class DuplicateCounter:
    """Numbers exact duplicates so each gets its own stable id.

    Exports without message ids can hold the same line twice (someone sent
    "+1" twice in the same second). Duplicates share a timestamp, so only keys
    of the current timestamp are remembered: memory stays flat however long
    the file is, and the numbering is the same on every re-read.
    """

    def __init__(self) -> None:
        self._ts: object = None
        self._seen: dict[str, int] = {}

    def occurrence(self, ts: object, key: str) -> int:
        if ts != self._ts:
            self._ts = ts
            self._seen = {}
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        return n
