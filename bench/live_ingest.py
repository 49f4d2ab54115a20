"""Live ingestion through the connector sink, against a bare insert of the same rows.

    python bench/live_ingest.py [--events 20000] [--batch 1] [--concurrency 20] [--runs 3]

Producers are asyncio tasks that each await the sink for one event (or a batch of
``--batch``) at a time — like webhook requests or sync loops answering only after
the commit — ``--concurrency`` of them in flight. Rollups are kept current (the
writer folds each commit). Reports events/s, commits, and the receipt-to-commit
latency p50/p99/max of each call. The baseline is a bare SQLite insert of the same
number of event rows, one row per transaction with the WAL in NORMAL sync: what
committing each event on its own costs without qunyun.
Prints one JSON document (medians over the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.store.engine import open_store
from qunyun.store.live import LiveWriter

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def make_events(
    n: int, groups: int = 20, members: int = 2000, prefix: str = ""
) -> list[Event]:
    gs = [GroupRef("telegram", f"-100{g}", f"group {g}") for g in range(groups)]
    ms = [IdentityRef("telegram", f"user{m}", f"member {m}") for m in range(members)]
    return [
        Event(
            "telegram",
            f"{prefix}{gs[i % groups].external_id}:{i}",
            Kind.MESSAGE,
            T0 + timedelta(seconds=i),
            gs[i % groups],
            ms[(i * 7919) % members],
            payload={"type": "text", "text": f"message {i} 你好"},
        )
        for i in range(n)
    ]


async def _drive(writer: LiveWriter, evs: list[Event], batch: int, concurrency: int) -> list[float]:
    sink = writer.sink("bench")
    chunks = [evs[i : i + batch] for i in range(0, len(evs), batch)]
    lat: list[float] = []
    it = iter(chunks)

    async def producer() -> None:
        for chunk in it:
            t = time.perf_counter()
            await sink(chunk, {"offset": chunk[-1].source_event_id})
            lat.append(time.perf_counter() - t)

    await asyncio.gather(*(producer() for _ in range(concurrency)))
    return lat


def live_run(n: int, batch: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        engine = open_store(f"sqlite:///{Path(d) / 'live.sqlite3'}")
        evs = make_events(n)
        # warm the writer's caches of groups and members as a running bot would be
        with LiveWriter(engine) as w:
            w.write("bench", make_events(2000, prefix="warm"))
        writer = LiveWriter(engine).start()
        t = time.perf_counter()
        lat = asyncio.run(_drive(writer, evs, batch, concurrency))
        wall = time.perf_counter() - t
        commits = writer.stats.commits
        writer.stop()
        engine.dispose()
    lat.sort()
    return {
        "seconds": wall,
        "events_per_s": n / wall,
        "commits": commits,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "max_ms": lat[-1] * 1000,
    }


def bare_run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(Path(d) / "bare.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, source_id INT, source_event_id TEXT,"
            " kind TEXT, ts INT, group_id INT, actor_id INT, target_id INT, payload TEXT,"
            " UNIQUE (source_id, source_event_id))"
        )
        t = time.perf_counter()
        for i in range(n):
            db.execute("BEGIN")
            db.execute(
                "INSERT INTO events (source_id, source_event_id, kind, ts, group_id, actor_id,"
                " target_id, payload) VALUES (1, ?, 'message', ?, ?, ?, NULL, ?)"
                " ON CONFLICT DO NOTHING",
                (f"-100{i % 20}:{i}", i, i % 20, i % 2000, '{"type":"text","text":"message"}'),
            )
            db.execute("COMMIT")
        wall = time.perf_counter() - t
        db.close()
    return {"seconds": wall, "events_per_s": n / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--batch", type=int, nargs="*", default=[1, 10])
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    out: dict[str, object] = {"events": a.events, "concurrency": a.concurrency, "runs": a.runs}
    for b in a.batch:
        runs = [live_run(a.events, b, a.concurrency) for _ in range(a.runs)]
        out[f"live_batch_{b}"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    bare = [bare_run(a.events) for _ in range(a.runs)]
    out["bare_insert_commit_each"] = {k: statistics.median(r[k] for r in bare) for k in bare[0]}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
