"""Streaming a large JSON export one object at a time (Discord, QQNT).

Exports put a few small header objects and one huge array of messages in a single
document; ``ijson`` reads it as events, and only the objects under the wanted
prefixes are built, one at a time, so memory stays that of one message.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import IO, Any

import ijson

from qunyun.importers.base import CountingReader


def objects(fh: IO[bytes] | CountingReader, built: Collection[str]) -> Iterator[tuple[str, Any]]:
    """(prefix, value) for every value under one of the ``built`` ijson prefixes
    (``"messages.item"`` for each element of a top-level ``messages`` array)."""
    builder: ijson.ObjectBuilder | None = None
    target = ""
    for prefix, event, value in ijson.parse(fh, use_float=True):
        if builder is not None:
            builder.event(event, value)
            if prefix == target and event in ("end_map", "end_array"):
                yield target, builder.value
                builder = None
            continue
        if prefix in built:
            if event in ("start_map", "start_array"):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                target = prefix
            else:
                yield prefix, value
