"""A real Synapse homeserver for tests, run as a separate process.

Synapse is AGPL and pins its own pydantic, so it never enters the product's
environment: it lives in its own virtualenv (``.venv-synapse`` at the repository
root, created once and reused) and is talked to only over HTTP on loopback. The
config is written by hand because ``--generate-config`` binds every interface,
enables federation and trusts matrix.org as a key server; the rate limits are
raised because Synapse's defaults (0.2 messages/s) make a test suite fail with
429s. Users are registered through the shared-secret admin API (one HMAC, no
command-line start-up per user).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYNAPSE_VERSION = "1.163.2"
SHARED_SECRET = "qunyun-test-shared-secret"


class SynapseUnavailable(RuntimeError):
    """Synapse could not be installed or started here; the message says why."""


def ensure_venv(venv: Path) -> Path:
    """The virtualenv holding Synapse, created on first use; returns its python."""
    python = venv / "bin" / "python"
    marker = venv / f".synapse-{SYNAPSE_VERSION}"
    if marker.exists() and python.exists():
        return python
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True
            )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"matrix-synapse=={SYNAPSE_VERSION}"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise SynapseUnavailable(
            f"could not install matrix-synapse=={SYNAPSE_VERSION} into {venv}: "
            f"{exc} {' '.join(tail)}"
        ) from exc
    marker.touch()
    return python


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


_LIMIT = {"per_second": 1000, "burst_count": 1000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _LIMIT,
    "rc_registration": _LIMIT,
    "rc_login": {"address": _LIMIT, "account": _LIMIT, "failed_attempts": _LIMIT},
    "rc_joins": {"local": _LIMIT, "remote": _LIMIT},
    "rc_joins_per_room": _LIMIT,
    "rc_invites": {"per_room": _LIMIT, "per_user": _LIMIT, "per_issuer": _LIMIT},
    "rc_room_creation": _LIMIT,
    "rc_admin_redaction": _LIMIT,
    "rc_media_create": _LIMIT,
}


def homeserver_config(port: int, data: Path) -> dict[str, Any]:
    """Loopback only, SQLite, no federation, fast password hashing, limits raised."""
    return {
        "server_name": "localhost",
        "pid_file": str(data / "homeserver.pid"),
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(data / "homeserver.db")}},
        "log_config": str(data / "log.config"),
        "media_store_path": str(data / "media_store"),
        "signing_key_path": str(data / "localhost.signing.key"),
        "registration_shared_secret": SHARED_SECRET,
        "macaroon_secret_key": "qunyun-test-macaroon",
        "form_secret": "qunyun-test-form",
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "bcrypt_rounds": 4,
        **_RATE_LIMITS,
    }


_LOG_CONFIG = """version: 1
formatters: {precise: {format: '%(asctime)s %(name)s %(levelname)s %(message)s'}}
handlers: {file: {class: logging.FileHandler, formatter: precise, filename: ./homeserver.log}}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


@dataclass(frozen=True, slots=True)
class MatrixUser:
    user_id: str
    access_token: str
    device_id: str
    password: str


@dataclass
class SynapseServer:
    """One homeserver with its data directory; stop and start keep port and data."""

    python: Path
    data: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        # JSON is YAML, so no YAML library is needed on our side.
        config = self.data / "homeserver.yaml"
        config.write_text(json.dumps(homeserver_config(self.port, self.data), indent=1))
        (self.data / "log.config").write_text(_LOG_CONFIG)
        self._synapse("--generate-keys")

    def _synapse(self, *args: str) -> None:
        cmd = [str(self.python), "-m", "synapse.app.homeserver", "-c", "homeserver.yaml", *args]
        done = subprocess.run(cmd, cwd=self.data, capture_output=True, timeout=120)
        if done.returncode:
            raise SynapseUnavailable(
                f"synapse {' '.join(args)} failed: {done.stderr.decode(errors='replace')[-800:]}"
            )

    def start(self, timeout: float = 60.0) -> None:
        if not (self.data / "homeserver.yaml").exists():
            self.configure()
        log = (self.data / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", "homeserver.yaml"],
            cwd=self.data,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.data / "stdout.log").read_text(errors="replace")[-1500:]
                raise SynapseUnavailable(f"synapse exited with {self.process.returncode}: {tail}")
            if self.healthy():
                return
            time.sleep(0.1)
        self.stop()
        raise SynapseUnavailable(f"synapse did not answer /health within {timeout:.0f} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                return bool(r.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Synapse shuts down cleanly in about 2 s), SIGKILL if it hangs."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def register(self, username: str, password: str = "", *, admin: bool = False) -> MatrixUser:
        """Create ``username`` with the shared-secret admin API (what the CLI tool does)."""
        password = password or f"{username}-pass"
        url = f"{self.url}/_synapse/admin/v1/register"
        nonce = _json("GET", url)["nonce"]
        body = {
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": admin,
            "mac": _mac(nonce, username, password, admin),
        }
        got = _json("POST", url, body)
        return MatrixUser(got["user_id"], got["access_token"], got["device_id"], password)


def _mac(nonce: str, user: str, password: str, admin: bool) -> str:
    msg = b"\x00".join(
        p.encode() for p in (nonce, user, password, "admin" if admin else "notadmin")
    )
    return hmac.new(SHARED_SECRET.encode(), msg, hashlib.sha1).hexdigest()


def _json(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            result: dict[str, Any] = json.loads(r.read())
            return result
    except urllib.error.HTTPError as exc:
        raise SynapseUnavailable(f"{method} {url}: {exc.code} {exc.read()[:300]!r}") from exc


@contextlib.contextmanager
def running_synapse(venv: Path, data: Path) -> Iterator[SynapseServer]:
    """Install if needed, configure, start; stop on exit."""
    server = SynapseServer(ensure_venv(venv), data)
    server.start()
    try:
        yield server
    finally:
        server.stop()
