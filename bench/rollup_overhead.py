"""What keeping rollups current costs at ingest: the same events with and without folding.

    python bench/rollup_overhead.py [--members 20000 --groups 100 --days 365] [--runs 3]

Loads one demo community (~1M events by default) into a fresh SQLite store twice per
run — once with rollups folded in the writing transaction (the default), once with
folding switched off — and prints medians and ``overhead`` = 1 − with/without
throughput. Target (issue 3): ≤ 20 %. The events are packed in a child process, as
``qunyun import`` and ``qunyun demo`` do (what a message counts as is worked out there
when rollups are kept); ``--serial`` packs them in the writing process instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from qunyun.demo import generate
from qunyun.demo.source import DemoSource
from qunyun.importing import run_import
from qunyun.store.engine import open_store


def _once(plan: Any, fold: bool, parallel: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/b.sqlite3")
        hook = None if fold else (lambda conn, res: None)
        t = time.perf_counter()
        run_import(
            engine,
            Path("demo"),
            fmt=DemoSource(plan, "demo"),
            tz="Asia/Shanghai",
            batch_size=20_000,
            on_written=hook,
            parallel=parallel,
        )
        seconds = time.perf_counter() - t
        engine.dispose()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--members", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--serial",
        action="store_true",
        help="parse in the writing process (qunyun import and qunyun demo parse in a child)",
    )
    args = ap.parse_args()
    plan = generate(args.groups, args.members, args.days, seed=0)
    with_r, without = [], []
    for _ in range(args.runs):
        without.append(_once(plan, fold=False, parallel=not args.serial))
        with_r.append(_once(plan, fold=True, parallel=not args.serial))
    w, wo = statistics.median(with_r), statistics.median(without)
    print(
        json.dumps(
            {
                "events": plan.total,
                "runs": args.runs,
                "parse": "writer process" if args.serial else "child process",
                "seconds_without_rollups": round(wo, 2),
                "seconds_with_rollups": round(w, 2),
                "events_per_s_without": round(plan.total / wo),
                "events_per_s_with": round(plan.total / w),
                "overhead": round(1 - wo / w, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
