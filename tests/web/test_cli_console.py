"""The console's commands: `qunyun serve` first start, users and tokens for automation."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from qunyun.cli import app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_until(proc: subprocess.Popen[bytes], needle: str, seconds: float = 60) -> str:
    """Output of ``proc`` until it contains ``needle``; fails instead of hanging."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data, deadline = b"", time.monotonic() + seconds
    while needle.encode() not in data:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        assert ready, f"no {needle!r} in {data.decode(errors='replace')!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"exited before {needle!r}: {data.decode(errors='replace')!r}"
        data += chunk
    return data.decode()


def test_serve_first_start_prints_a_one_time_owner_password(tmp_path: Path) -> None:
    """The README's main command: a fresh store, an owner, a password that signs in."""
    port = _free_port()
    env = {**os.environ, "QUNYUN_HOME": str(tmp_path), "COLUMNS": "200"}
    env.pop("QUNYUN_DATABASE_URL", None)
    argv = [sys.executable, "-m", "qunyun", "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        banner = _read_until(proc, "password")
        m = re.search(r"one-time password\s+(\S+)", banner)
        assert m, banner
        password = m.group(1)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = httpx.post(base + "/api/v1/auth/login", json={"name": "owner", "password": password})
        assert r.status_code == 200 and r.json()["user"]["role"] == "owner"
        assert "qunyun_session" in r.cookies
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    assert (tmp_path / "qunyun.sqlite3").exists()
    # a second start finds the owner and prints no password
    again = subprocess.Popen([*argv[:-1], str(_free_port())], env=env, stdout=subprocess.PIPE)
    try:
        assert "password" not in _read_until(again, "qunyun console")
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(20)


def test_users_and_tokens_for_automation(tmp_path: Path) -> None:
    db = str(tmp_path / "q.sqlite3")
    runner = CliRunner()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        r = runner.invoke(app, [*args, "--db", db, "--json"])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)  # type: ignore[no-any-return]

    made = run("user", "create", "alice", "--role", "operator")
    assert made["user"]["role"] == "operator" and len(made["password"]) >= 10
    assert made["user"]["group_ids"] == [] and not made["user"]["all_groups"]
    assert [u["name"] for u in run("user", "list")["users"]] == ["alice"]
    tok = run("token", "create", "--user", "alice", "--name", "ci")
    assert tok["secret"].startswith("qy_") and tok["token"]["user"] == "alice"
    listed = run("token", "list")["tokens"]
    assert len(listed) == 1 and "secret" not in listed[0]
    assert tok["secret"] not in json.dumps(listed)

    from fastapi.testclient import TestClient

    from qunyun.store.engine import open_store
    from qunyun.web.app import create_app

    with TestClient(create_app(open_store(db))) as client:
        h = {"Authorization": f"Bearer {tok['secret']}"}
        assert client.get("/api/v1/me", headers=h).json()["name"] == "alice"
        assert run("token", "revoke", str(tok["token"]["id"]))["token"]["revoked"] is True
        assert client.get("/api/v1/me", headers=h).status_code == 401

    # bad input is a clear error, exit status 2, nothing created
    r = runner.invoke(app, ["user", "create", "bob", "--role", "boss", "--db", db])
    assert r.exit_code != 0
    r = runner.invoke(app, ["user", "create", "bob", "--groups", "no such group", "--db", db])
    assert r.exit_code != 0
    assert [u["name"] for u in run("user", "list")["users"]] == ["alice"]
