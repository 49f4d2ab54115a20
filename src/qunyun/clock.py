"""The one source of "now", so schedules, windows and tests agree on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


def freeze(at: datetime) -> None:
    """Make :func:`now` return ``at`` (tests, reproducible demos)."""
    global _now
    _now = lambda: at  # noqa: E731


def unfreeze() -> None:
    global _now
    _now = lambda: datetime.now(UTC)  # noqa: E731
