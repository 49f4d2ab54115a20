"""One digest of what an import reads and how it reads it, so an unchanged re-import is free.

Re-importing an export already imported adds nothing (every event is keyed by
``(source, source_event_id)``), but finding that out means parsing the whole file
again: a 1M-line export takes longer to re-read than to insert from scratch. When the
same bytes are read by the same importer code with the same options, the events are
the same, so the earlier import's result stands. The digest covers:

* where the input is (its absolute path: some formats name the group after the file
  or its folder, so a renamed copy is another group) and its content: a file's bytes;
  a zip's member names, sizes and CRC-32s (from its directory: a 2 GB export with media
  costs nothing to fingerprint); a folder's relative paths and files' bytes, in name
  order — except media files (photos, voice, video), which no importer reads and which
  make an export folder gigabytes: their size and modification time stand for them;
* the importer's name and the options that change events (time zone, group name);
* the code that turns bytes into events (the importers package, the event
  vocabulary, the zone rules): after an upgrade that reads a format better, the same
  file is read again and what it now yields is added.
"""

from __future__ import annotations

import hashlib
import zipfile
from functools import lru_cache
from pathlib import Path

_CHUNK = 1 << 20


def fingerprint(path: Path, importer: str, tz: str, group: str | None) -> str:
    """The digest of importing ``path`` with these settings (hex)."""
    h = hashlib.blake2b(digest_size=20)
    where = str(path.resolve())
    for part in (importer, tz, group or "", _code_revision(), where):
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\x1f")
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            st = f.stat()
            h.update(str(f.relative_to(path).as_posix()).encode("utf-8", "surrogateescape"))
            h.update(b"\x1f%d\x1f" % st.st_size)
            if f.suffix.lower() in MEDIA_SUFFIXES:
                h.update(b"%d\x1f" % st.st_mtime_ns)
            else:
                _feed(h, f)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                h.update(info.filename.encode("utf-8", "surrogateescape"))
                h.update(b"\x1f%d\x1f%d\x1f" % (info.file_size, info.CRC))
    else:
        _feed(h, path)
    return h.hexdigest()


#: files no importer reads the content of (media beside a chat export)
MEDIA_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".bmp", ".tgs", ".webm", ".mp4"}
    | {".mov", ".mkv", ".avi", ".3gp", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".oga"}
    | {".wav", ".amr", ".silk", ".pdf"}
)


def _feed(h: hashlib.blake2b, path: Path) -> None:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)


@lru_cache(maxsize=1)
def _code_revision() -> str:
    """A digest of the source that decides which events a file yields."""
    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "importers").glob("*.py"))
    files += [root / "events.py", root / "timezones.py"]
    h = hashlib.blake2b(digest_size=16)
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()
