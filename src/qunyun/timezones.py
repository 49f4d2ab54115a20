"""Turning what a user types for a time zone into a real zone, and finding the local one."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qunyun.errors import UserError


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Shanghai``), or a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or UTC",
            zh=f"未知时区 {name!r}；请使用 IANA 时区名，例如 Asia/Shanghai",
            code="bad_tz",
        ) from exc


def local_zone_name() -> str:
    """This machine's IANA zone name: ``TZ``, then /etc/localtime, else UTC.

    Exports that carry only wall-clock times are read in this zone unless the user
    says otherwise, because the phone or PC that exported them was usually here.
    """
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            ZoneInfo(env)
            return env
        except (ZoneInfoNotFoundError, ValueError):
            pass
    link = Path("/etc/localtime")
    try:
        target = str(link.resolve())
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    if marker in target:
        name = target.split(marker, 1)[1]
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    tz_file = Path("/etc/timezone")
    if tz_file.exists():
        name = tz_file.read_text().strip()
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return "UTC"
