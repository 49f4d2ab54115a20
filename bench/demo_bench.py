"""``qunyun demo`` end to end into a new SQLite store: wall time, peak RSS, events/s.

    python bench/demo_bench.py --groups 1000 --members 200000 --days 365

Target (issue 2): 1,000 groups / 200,000 members / 10,000,000 events in < 10 min.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--members", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--keep", help="keep the store at this path (for later benchmarks)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or f"{tmp}/demo.sqlite3"
        argv = [
            sys.executable,
            "-m",
            "qunyun",
            "demo",
            "--groups",
            str(args.groups),
            "--members",
            str(args.members),
            "--days",
            str(args.days),
            "--db",
            f"sqlite:///{path}",
            "--json",
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"qunyun demo failed with status {status}")
        doc = json.loads(out)
        size_mb = os.path.getsize(path) / 2**20
    print(
        json.dumps(
            {
                "groups": args.groups,
                "members": args.members,
                "days": args.days,
                "events": doc["events"],
                "new": doc["new"],
                "seconds": round(seconds, 1),
                "events_per_s": round(doc["events"] / seconds),
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "db_mb": round(size_mb),
            }
        )
    )


if __name__ == "__main__":
    main()
