"""Report/metric latency on a store (the 10M-event demo community for issue 3's targets).

    python bench/metrics_bench.py --db /tmp/demo10m.sqlite3 [--samples 20] [--biggest 5]

For random groups: the full report document (every metric) for one month and for one
year, and for one month with keywords. For the ``--biggest`` groups by messages in
the month (the slow tail a random sample may miss): the same, median of 3 runs each.
Then the all-groups report for one month, once. Prints one JSON document with
p50/p95 in milliseconds, wall time and this process's CPU time (the machine is
shared, so wall time also measures other jobs), and the load average before and
after. Targets: one group/month p95 < 100 ms, one group/year p95 < 300 ms. The
all-groups overview has its own script (overview_bench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from typing import Any

from qunyun.analytics import report, rollups
from qunyun.analytics.scope import resolve
from qunyun.store.engine import open_store


def _pct(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return round(ys[min(len(ys) - 1, int(q * len(ys)))] * 1000, 1)


def _timed(fn: Any) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--biggest", type=int, default=5)
    ap.add_argument("--month", default="2025-06")
    ap.add_argument("--year-from", default="2024-07-01")
    ap.add_argument("--year-to", default="2025-06-30")
    ap.add_argument("--skip-all", action="store_true", help="skip the all-groups report")
    args = ap.parse_args()
    engine = open_store(args.db)
    rollups.catch_up(engine)
    rng = random.Random(1)
    out: dict[str, Any] = {"db": args.db, "load_start": os.getloadavg()}
    with engine.connect() as conn:
        gids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM groups ORDER BY id")]
        picks = [str(rng.choice(gids)) for _ in range(args.samples)]
        month = resolve(conn, None, month=args.month)
        busiest = conn.exec_driver_sql(
            "SELECT group_id FROM group_hourly WHERE local_hour >= ? AND local_hour < ? "
            "GROUP BY group_id ORDER BY sum(messages) DESC LIMIT ?",
            (month.first_day * 24, (month.last_day + 1) * 24, args.biggest),
        )
        biggest = [str(r[0]) for r in busiest]
        report.build(conn, resolve(conn, picks[0], month=args.month))  # warm: jieba, caches
        cases = (
            ("group_month_metrics", {"month": args.month}, False),
            ("group_year_metrics", {"start": args.year_from, "end": args.year_to}, False),
            ("group_month_keywords_included", {"month": args.month}, True),
        )
        for name, kw, with_keywords in cases:
            walls, cpus = [], []
            for g in picks:
                scope = resolve(conn, g, **kw)
                w, c = _timed(lambda s=scope, k=with_keywords: report.build(conn, s, keywords=k))
                walls.append(w)
                cpus.append(c)
            out[name] = {
                "p50_ms": _pct(walls, 0.5),
                "p95_ms": _pct(walls, 0.95),
                "cpu_p50_ms": _pct(cpus, 0.5),
                "cpu_p95_ms": _pct(cpus, 0.95),
                "samples": len(walls),
            }
        for name, kw in (
            ("biggest_month_metrics", {"month": args.month}),
            ("biggest_year_metrics", {"start": args.year_from, "end": args.year_to}),
        ):
            per_group = {}
            for g in biggest:
                scope = resolve(conn, g, **kw)
                runs = [
                    _timed(lambda s=scope: report.build(conn, s, keywords=False)) for _ in range(3)
                ]
                per_group[g] = {
                    "ms": round(statistics.median(w for w, _ in runs) * 1000, 1),
                    "cpu_ms": round(statistics.median(c for _, c in runs) * 1000, 1),
                }
            out[name] = per_group
        if not args.skip_all:
            w, c = _timed(lambda: report.build(conn, month, keywords=False))
            out["all_groups_month_metrics"] = {
                "ms": round(w * 1000, 1),
                "cpu_ms": round(c * 1000, 1),
                "groups": len(gids),
            }
    out["load_end"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
