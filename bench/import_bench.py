"""Import speed against a bare parse of the same file, and peak memory of each.

    python bench/import_bench.py --format telegram --file big.json [--runs 3]

Each measurement runs in a fresh child process so its peak RSS (ru_maxrss from
wait4) is its own. "parse" iterates every record the importer yields and does
nothing with it; "import" is ``qunyun import`` into a new SQLite store. Prints
one JSON document: medians over the runs, and import/parse as ``ratio``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARSE = """
import sys, zoneinfo
from pathlib import Path
from qunyun import importers
from qunyun.importers.base import ImportOptions
imp = importers.get(sys.argv[1])
n = 0
for sf in imp.files(Path(sys.argv[2]), ImportOptions(tz=zoneinfo.ZoneInfo("Asia/Shanghai"))):
    for _ in sf.records:
        n += 1
print(n)
"""


def measure(fmt: str, path: Path, runs: int) -> dict[str, object]:
    parse_t, parse_rss, import_t, import_rss = [], [], [], []
    records = 0
    imported: dict[str, object] = {}
    for _ in range(runs):
        t, rss, out = _timed([sys.executable, "-c", PARSE, fmt, str(path)])
        parse_t.append(t)
        parse_rss.append(rss)
        records = int(out.strip() or 0)
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{tmp}/bench.sqlite3"
            argv = [
                sys.executable,
                "-m",
                "qunyun",
                "import",
                str(path),
                "--format",
                fmt,
                "--tz",
                "Asia/Shanghai",
                "--db",
                db,
                "--json",
            ]
            t, rss, out = _timed(argv)
            import_t.append(t)
            import_rss.append(rss)
            imported = json.loads(out)["totals"]
    return {
        "format": fmt,
        "file": str(path),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "records": records,
        "imported": imported,
        "runs": runs,
        "parse_s": round(statistics.median(parse_t), 2),
        "import_s": round(statistics.median(import_t), 2),
        "ratio": round(statistics.median(import_t) / statistics.median(parse_t), 2),
        "parse_peak_rss_mb": round(max(parse_rss), 1),
        "import_peak_rss_mb": round(max(import_rss), 1),
        "import_events_per_s": round(records / statistics.median(import_t)),
    }


def _timed(argv: list[str]) -> tuple[float, float, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: some records rejected
        raise SystemExit(f"{' '.join(argv[:6])} failed with status {status}")
    return seconds, usage.ru_maxrss / 1024, out.decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", required=True)
    ap.add_argument("--file", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps(measure(args.format, args.file, args.runs), ensure_ascii=False))


if __name__ == "__main__":
    main()
