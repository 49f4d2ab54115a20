"""Time a bare parse of a Telegram export: every record the importer yields, no store.

Prints one JSON line ``{"messages", "events", "rejected", "seconds", "peak_rss_mb", …}``
so runs can be compared; ``peak_rss_mb`` is the process's maximum resident set size
and must stay flat as the file grows (the importer streams).

    python bench/gen_telegram.py -n 1000000 -o /tmp/tg/result.json
    PYTHONPATH=src python bench/parse_telegram.py /tmp/tg/result.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from qunyun.events import Event, Kind
from qunyun.importers.base import ImportOptions
from qunyun.importers.telegram import IMPORTER


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="result.json, its folder or a zip")
    ap.add_argument("--tz", default="Asia/Shanghai", help="for exports with local times only")
    args = ap.parse_args(argv)
    options = ImportOptions(tz=ZoneInfo(args.tz))
    messages = events = rejected = 0
    size = 0
    start = time.perf_counter()
    for sf in IMPORTER.files(args.path, options):
        size += sf.size or 0
        for rec in sf.records:
            if isinstance(rec, Event):
                events += 1
                messages += rec.kind is Kind.MESSAGE
            else:
                rejected += 1
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "messages": messages,
                "events": events,
                "rejected": rejected,
                "bytes": size,
                "seconds": round(seconds, 2),
                "messages_per_second": round(messages / seconds) if seconds else None,
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
