"""Connector test fixtures: a real Synapse, started once per session.

Where Synapse cannot be installed or started, its tests are skipped with the
reason — unless ``QUNYUN_REQUIRE_SYNAPSE=1`` (CI), where that is a failure.
``QUNYUN_SYNAPSE_VENV`` overrides where its virtualenv is kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qunyun.testing.synapse import SynapseServer, SynapseUnavailable, ensure_venv

REQUIRE_SYNAPSE = os.environ.get("QUNYUN_REQUIRE_SYNAPSE") == "1"
_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    venv = Path(os.environ.get("QUNYUN_SYNAPSE_VENV", _ROOT / ".venv-synapse"))
    try:
        server = SynapseServer(ensure_venv(venv), tmp_path_factory.mktemp("synapse"))
        server.start()
    except SynapseUnavailable as exc:
        msg = f"Synapse not available: {exc}"
        if REQUIRE_SYNAPSE:
            pytest.fail(msg + " (QUNYUN_REQUIRE_SYNAPSE=1)")
        pytest.skip(msg)
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly, at the end, when the Matrix tests did not run against Synapse."""
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if "Synapse not available" in str(getattr(r, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_sep(
            "!",
            f"{len(skipped)} Matrix tests SKIPPED: Synapse could not be installed or started "
            "(see the skip reasons; QUNYUN_REQUIRE_SYNAPSE=1 makes this a failure)",
            red=True,
            bold=True,
        )
