"""All-groups overview latency (issue 3: every group, one month, < 1 s).

    python bench/overview_bench.py --db /tmp/demo10m.sqlite3 [--runs 7] [--month 2025-06]

Times ``analytics.overview.build`` over every group of the store for one month, on
one connection, after one untimed warm-up run (first read of the pages from disk).
CPU time of the process is printed beside wall time: on a shared machine the wall
time mostly measures the other jobs.
Also times its parts (health alone) so a regression points at its query. Prints one
JSON document; times in milliseconds, with the machine's load average at the start
and the end, because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from qunyun.analytics import health, overview
from qunyun.analytics.scope import resolve
from qunyun.store.engine import open_store


def _times(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    """Wall time, and this process's CPU time (less sensitive to other jobs' load)."""
    xs, cs = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        xs.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    ys = sorted(xs)
    return {
        "median_ms": round(statistics.median(ys) * 1000, 1),
        "p95_ms": round(ys[min(len(ys) - 1, int(0.95 * len(ys)))] * 1000, 1),
        "min_ms": round(ys[0] * 1000, 1),
        "max_ms": round(ys[-1] * 1000, 1),
        "cpu_median_ms": round(statistics.median(cs) * 1000, 1),
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--month", default="2025-06")
    args = ap.parse_args()
    engine = open_store(args.db)
    out: dict[str, Any] = {"db": args.db, "month": args.month, "load_start": os.getloadavg()}
    with engine.connect() as conn:
        scope = resolve(conn, None, month=args.month)
        doc = overview.build(conn, scope)  # warm-up, untimed
        out["groups"] = doc["totals"]["groups"]
        out["overview"] = _times(lambda: overview.build(conn, scope), args.runs)
        out["health_only"] = _times(lambda: health.group_health(conn, scope), args.runs)
    out["load_end"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
