"""Time a bare parse of a WhatsApp export: iterate every record, store nothing.

    python bench/parse_whatsapp.py /tmp/wa.txt [--tz America/New_York]

Prints JSON {lines, records, rejected, seconds, peak_rss_mb}. The full import
(parse + store) is benchmarked elsewhere; this is its lower bound.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from qunyun.importers.base import ImportOptions, Rejected
from qunyun.importers.whatsapp import IMPORTER


def count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--tz", default="America/New_York")
    args = ap.parse_args()
    lines = count_lines(args.path) if args.path.is_file() else 0
    options = ImportOptions(tz=ZoneInfo(args.tz))
    records = rejected = 0
    start = time.perf_counter()
    for source in IMPORTER.files(args.path, options):
        for rec in source.records:
            records += 1
            if isinstance(rec, Rejected):
                rejected += 1
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "lines": lines,
                "records": records,
                "rejected": rejected,
                "seconds": round(seconds, 3),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
