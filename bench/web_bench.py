"""The console under load: page server time and API throughput (issue 4 targets).

    python bench/web_bench.py --db /tmp/demo10m.sqlite3 [--samples 20] [--seconds 10]

1. Server time (the app's own ``Server-Timing`` header) of the overview page and of
   group detail pages, one uvicorn worker: "cold" = first request for a scope
   (computed), "warm" = the same page again (the metric cache). Target: p95 < 300 ms.
   Measured twice: without the background thread, and after letting it warm the
   overviews (``--prewarm`` seconds), as ``qunyun serve`` runs by default.
2. Requests per second of a cached metric endpoint (``/api/v1/groups/{id}/report``)
   with ``qunyun serve --workers 2``, measured by wrk on loopback (Debian package
   ``wrk``). Target: ≥ 500 req/s.

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db: str, port: int, workers: int, background: bool = False) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "qunyun", "serve", "--db", db, "--port", str(port)]
    argv += ["--workers", str(workers), "--background" if background else "--no-background"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start: " + proc.stderr.read().decode()[-2000:])


def token(db: str) -> str:
    name = f"bench{random.randrange(10**9)}"
    run = [sys.executable, "-m", "qunyun"]
    subprocess.run(
        [*run, "user", "create", name, "--role", "admin", "--db", db, "--json"],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [*run, "token", "create", "--user", name, "--db", db, "--json"],
        check=True,
        capture_output=True,
    )
    return str(json.loads(out.stdout)["secret"])


def server_ms(r: httpx.Response) -> float:
    m = re.search(r"dur=([\d.]+)", r.headers.get("server-timing", ""))
    if r.status_code != 200 or not m:
        raise RuntimeError(f"{r.request.url}: {r.status_code} {r.text[:300]}")
    return float(m.group(1))


def summary(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {
        "n": len(xs),
        "median_ms": round(statistics.median(xs), 1),
        "p95_ms": round(xs[min(len(xs) - 1, int(0.95 * len(xs)))], 1),
        "max_ms": round(xs[-1], 1),
    }


def page_times(db: str, tok: str, samples: int, prewarm: float = 0) -> dict[str, Any]:
    """Cold/warm page times; with ``prewarm`` seconds, the console's own warm-up runs first."""
    port = free_port()
    proc = start(db, port, 1, background=prewarm > 0)
    time.sleep(prewarm)
    try:
        h = {"Authorization": f"Bearer {tok}"}
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=h, timeout=120) as c:
            groups = c.get("/api/v1/groups", params={"limit": 1000}).json()["items"]
            months = ["2025-03", "2025-04", "2025-05", "2025-06"]
            rng = random.Random(7)
            picks = [(rng.choice(groups)["id"], rng.choice(months)) for _ in range(samples)]
            # pages authenticate by session; the API by token: time pages via a session
            sess = httpx.Client(base_url=base, timeout=120)
            form = sess.get("/login").text
            csrf = re.search(r'name="login_csrf" value="([^"]+)"', form)
            name = json.loads(
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "qunyun",
                        "user",
                        "create",
                        f"p{port}",
                        "--role",
                        "admin",
                        "--db",
                        db,
                        "--json",
                    ],
                    check=True,
                    capture_output=True,
                ).stdout
            )
            sess.post(
                "/login",
                data={
                    "name": name["user"]["name"],
                    "password": name["password"],
                    "next": "/",
                    "login_csrf": csrf.group(1) if csrf else "",
                },
            )
            out: dict[str, Any] = {}
            cold, warm = [], []
            for m in months:
                cold.append(server_ms(sess.get("/", params={"month": m})))
                warm.append(server_ms(sess.get("/", params={"month": m})))
            out["overview_page"] = {"cold": summary(cold), "warm": summary(warm)}
            cold, warm = [], []
            for gid, m in picks:
                cold.append(server_ms(sess.get(f"/groups/{gid}", params={"month": m})))
                warm.append(server_ms(sess.get(f"/groups/{gid}", params={"month": m})))
            out["group_page"] = {"cold": summary(cold), "warm": summary(warm)}
            sess.close()
            return out
    finally:
        proc.terminate()
        proc.wait(30)


def throughput(db: str, tok: str, seconds: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk not installed (apt-get install wrk)"}
    port = free_port()
    proc = start(db, port, 2)
    try:
        base = f"http://127.0.0.1:{port}"
        h = {"Authorization": f"Bearer {tok}"}
        gid = httpx.get(f"{base}/api/v1/groups", headers=h, params={"limit": 1}, timeout=120)
        url = f"{base}/api/v1/groups/{gid.json()['items'][0]['id']}/report?month=2025-06"
        for _ in range(4):  # fill both workers' caches
            httpx.get(url, headers=h, timeout=120).raise_for_status()
        res = subprocess.run(
            [wrk, "-t2", "-c32", f"-d{seconds}s", "-H", f"Authorization: Bearer {tok}", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", res).group(1))  # type: ignore[union-attr]
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", res)
        lat = re.search(r"Latency\s+([\d.]+\w+)", res)
        return {
            "url": url.replace(base, ""),
            "workers": 2,
            "connections": 32,
            "seconds": seconds,
            "requests_per_s": rps,
            "mean_latency": lat.group(1) if lat else None,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        }
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument(
        "--prewarm",
        type=float,
        default=60,
        help="seconds to let the console's background warm-up run before the second series",
    )
    args = ap.parse_args()
    tok = token(args.db)
    doc = {
        "db": args.db,
        "cpus": os.cpu_count(),
        "pages": page_times(args.db, tok, args.samples),
        # the same, served by a console whose background thread warmed its caches first
        "pages_after_warm_up": page_times(args.db, tok, args.samples, args.prewarm)
        if args.prewarm
        else None,
        "api_cached": throughput(args.db, tok, args.seconds),
    }
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
