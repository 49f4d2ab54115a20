"""Report/metric latency on a store (the 10M-event demo community for issue 3's targets).

    python bench/metrics_bench.py --db /tmp/demo10m.sqlite3 [--samples 20]

For random groups: the full report document (every metric) for one month and for one
year; and the all-groups report for one month. Prints one JSON document with p50/p95
in milliseconds. Targets: one group/month p95 < 100 ms, one group/year p95 < 300 ms,
all groups/month < 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from qunyun.analytics import report, rollups
from qunyun.analytics.scope import resolve
from qunyun.store.engine import open_store


def _pct(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return round(ys[min(len(ys) - 1, int(q * len(ys)))] * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--month", default="2025-06")
    ap.add_argument("--year-from", default="2024-07-01")
    ap.add_argument("--year-to", default="2025-06-30")
    ap.add_argument("--skip-all", action="store_true", help="skip the all-groups overview")
    args = ap.parse_args()
    engine = open_store(args.db)
    rollups.catch_up(engine)
    rng = random.Random(1)
    out: dict[str, object] = {"db": args.db}
    with engine.connect() as conn:
        gids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM groups ORDER BY id")]
        picks = [str(rng.choice(gids)) for _ in range(args.samples)]
        report.build(conn, resolve(conn, picks[0], month=args.month))  # warm: jieba, caches
        cases = (
            ("group_month_metrics", {"month": args.month}, False),
            ("group_year_metrics", {"start": args.year_from, "end": args.year_to}, False),
            ("group_month_keywords_included", {"month": args.month}, True),
        )
        for name, kw, with_keywords in cases:
            times = []
            for g in picks:
                t = time.perf_counter()
                report.build(conn, resolve(conn, g, **kw), keywords=with_keywords)
                times.append(time.perf_counter() - t)
            out[name] = {
                "p50_ms": _pct(times, 0.5),
                "p95_ms": _pct(times, 0.95),
                "samples": len(times),
            }
        if not args.skip_all:
            t = time.perf_counter()
            report.build(conn, resolve(conn, None, month=args.month), keywords=False)
            out["all_groups_month_metrics"] = {
                "ms": round((time.perf_counter() - t) * 1000, 1),
                "groups": len(gids),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
