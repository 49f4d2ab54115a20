"""Benchmark the demo generator: plan + stream, no store.

    PYTHONPATH=src python bench/demo_generate.py                 # ~1M events
    PYTHONPATH=src python bench/demo_generate.py --groups 1000 --members 200000 --days 365

Prints one JSON object: events, seconds (wall), cpu_seconds, plan_seconds,
events_per_s, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from qunyun.demo import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--members", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--events", type=int, default=None, help="target total events")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    wall0, cpu0 = time.perf_counter(), time.process_time()
    plan = generate(args.groups, args.members, args.days, seed=args.seed, events=args.events)
    plan_s = time.perf_counter() - wall0
    n = 0
    for _ in plan.events():
        n += 1
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    assert n == plan.total, (n, plan.total)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "events": n,
                "seconds": round(wall, 2),
                "cpu_seconds": round(cpu, 2),
                "plan_seconds": round(plan_s, 2),
                "events_per_s": round(n / wall),
                "peak_rss_mb": round(rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
