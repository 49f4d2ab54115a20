"""Import speed against the physical floor: a bare pass over the file plus a bare insert.

    python bench/import_floor.py --format whatsapp --file wa.txt [--runs 3]
    python bench/import_floor.py --format telegram --file result.json [--runs 3]

In the same run, each in a fresh child process (so peak RSS from ``wait4`` is its own):

* ``bare_pass``: the least any parser must do to see every record. Telegram:
  ``ijson.items`` over ``messages.item``, counting items. WhatsApp: one compiled
  regex matched against every line.
* ``bare_insert``: as many rows as the import stores, of the same width (the mean
  ``source_event_id`` and payload lengths of the file's own events), inserted into a
  new SQLite file with the store's pragmas and a unique (source, source_event_id)
  key, 50,000 rows to a transaction (``executemany``).
* ``parse``: the project's importer alone (every record iterated, nothing stored).
* ``import``: ``qunyun import`` into a new SQLite store; ``reimport``: the same
  command again into that store (everything already there).

Prints one JSON document with the medians, ``floor_s`` = bare_pass + bare_insert,
``ratio`` = import / floor (target ≤ 2) and ``reimport_ratio`` = reimport / floor
(target ≤ 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from import_bench import _timed  # one child run: seconds, peak RSS (MB), stdout

BARE_PASS = {
    "telegram": """
import sys, ijson
n = 0
with open(sys.argv[1], "rb") as fh:
    for _ in ijson.items(fh, "messages.item"):
        n += 1
print(n)
""",
    "whatsapp": r"""
import re, sys
rx = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4}),? (\d{1,2}):(\d{2})(?::\d{2})?"
                r"[\s\u202f]?([AaPp]\.? ?[Mm]\.?)? [-–] ([^:]+?): (.*)")
n = 0
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        if rx.match(line) is not None:
            n += 1
print(n)
""",
}

#: the importer alone; also reports the mean widths of what the writer would store
PARSE = """
import sys, zoneinfo, orjson
from pathlib import Path
from qunyun import importers
from qunyun.events import Event
from qunyun.importers.base import ImportOptions
imp = importers.get(sys.argv[1])
n = seid = payload = 0
for sf in imp.files(Path(sys.argv[2]), ImportOptions(tz=zoneinfo.ZoneInfo("Asia/Shanghai"))):
    for rec in sf.records:
        n += 1
        if n <= 20000 and isinstance(rec, Event):
            seid += len(rec.source_event_id)
            payload += len(orjson.dumps(rec.payload))
sample = min(n, 20000) or 1
print(orjson.dumps({"records": n, "seid": seid / sample, "payload": payload / sample}).decode())
"""

BARE_INSERT = """
import sqlite3, sys
path, rows, seid_w, payload_w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(path, isolation_level=None)
for p in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "temp_store=MEMORY",
          "wal_autocheckpoint=16384"):
    con.execute("PRAGMA " + p)
con.execute(
    "CREATE TABLE events (id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, "
    "source_event_id VARCHAR(255) NOT NULL, kind VARCHAR(16) NOT NULL, ts INTEGER NOT NULL, "
    "group_id INTEGER NOT NULL, actor_id INTEGER, target_id INTEGER, payload TEXT NOT NULL, "
    "UNIQUE (source_id, source_event_id))"
)
pad = "x" * payload_w
seid_fmt = "{:0%dd}" % max(seid_w, 1)
sql = "INSERT INTO events (source_id, source_event_id, kind, ts, group_id, actor_id, target_id, " \
      "payload) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (source_id, source_event_id) DO NOTHING"
batch = 50000
t0 = 1_600_000_000_000_000
for start in range(0, rows, batch):
    con.execute("BEGIN")
    con.executemany(sql, ((1, seid_fmt.format(i), "message", t0 + i * 1_000_000, 1, i % 5000 + 1,
                           None, pad) for i in range(start, min(rows, start + batch))))
    con.execute("COMMIT")
print(con.execute("SELECT count(*) FROM events").fetchone()[0])
"""


def measure(fmt: str, path: Path, runs: int) -> dict[str, object]:
    times: dict[str, list[float]] = {k: [] for k in ("bare_pass", "bare_insert", "parse")}
    times.update(import_=[], reimport=[])
    rss: dict[str, float] = {}
    widths: dict[str, float] = {}
    totals: dict[str, object] = {}
    for _ in range(runs):
        t, r, _out = _timed([sys.executable, "-c", BARE_PASS[fmt], str(path)])
        times["bare_pass"].append(t)
        rss["bare_pass"] = max(rss.get("bare_pass", 0.0), r)
        t, r, out = _timed([sys.executable, "-c", PARSE, fmt, str(path)])
        times["parse"].append(t)
        rss["parse"] = max(rss.get("parse", 0.0), r)
        widths = json.loads(out)
        with tempfile.TemporaryDirectory() as tmp:
            argv = [sys.executable, "-c", BARE_INSERT, f"{tmp}/bare.sqlite3"]
            argv += [str(widths["records"]), str(round(widths["seid"]))]
            argv.append(str(round(widths["payload"])))
            t, r, _out = _timed(argv)
            times["bare_insert"].append(t)
            rss["bare_insert"] = max(rss.get("bare_insert", 0.0), r)
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{tmp}/bench.sqlite3"
            argv = [sys.executable, "-m", "qunyun", "import", str(path), "--format", fmt]
            argv += ["--tz", "Asia/Shanghai", "--db", db, "--json"]
            for key in ("import_", "reimport"):
                t, r, out = _timed(argv)
                times[key].append(t)
                rss[key] = max(rss.get(key, 0.0), r)
                totals[key.rstrip("_")] = json.loads(out)["totals"]
    med = {k: statistics.median(v) for k, v in times.items()}
    floor = med["bare_pass"] + med["bare_insert"]
    return {
        "format": fmt,
        "file": str(path),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "records": widths.get("records"),
        "mean_seid_chars": round(widths.get("seid", 0), 1),
        "mean_payload_chars": round(widths.get("payload", 0), 1),
        "runs": runs,
        "bare_pass_s": round(med["bare_pass"], 2),
        "bare_insert_s": round(med["bare_insert"], 2),
        "floor_s": round(floor, 2),
        "parse_s": round(med["parse"], 2),
        "import_s": round(med["import_"], 2),
        "reimport_s": round(med["reimport"], 2),
        "ratio": round(med["import_"] / floor, 2),
        "reimport_ratio": round(med["reimport"] / floor, 2),
        "all_s": {k.rstrip("_"): [round(x, 2) for x in v] for k, v in times.items()},
        "peak_rss_mb": {k.rstrip("_"): round(v, 1) for k, v in rss.items()},
        "imported": totals.get("import"),
        "reimported": totals.get("reimport"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", required=True, choices=sorted(BARE_PASS))
    ap.add_argument("--file", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps(measure(args.format, args.file, args.runs), ensure_ascii=False))


if __name__ == "__main__":
    main()
