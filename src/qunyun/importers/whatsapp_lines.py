"""Reading the timestamp that starts every WhatsApp export line.

WhatsApp writes the date and time the way the phone's locale shows them, so one
chat exported on two phones gives two different files::

    12/31/20, 9:41 PM - Ann: hi                 Android, en-US (12 h, U+202F before PM)
    31/12/2020, 21:41 - Ann: hi                 Android, en-GB / most of Europe
    31.12.20, 21:41 - Ann: hi                   Android, de
    2020/12/31 下午9:41 - Ann: hi               Android, zh-CN
    [31/12/20, 21:41:05] Ann: hi                iOS (brackets, seconds)
    ‎[2020/12/31 21:41:05] Ann: ‎<attached: …>   iOS with a leading U+200E mark

One regular expression recognises all of these so the hot loop runs a single
``match`` per line. The day/month order cannot be read off one line
(``03/04/20``), so :func:`detect_order` decides it once per file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

#: Marks some exporters put before a line (iOS U+200E, BOM, RTL mark).
_MARKS = "\u200e\u200f\ufeff\u202a\u202b\u202c"

#: Day-period words written *before* the hour (Chinese, Japanese, Korean locales).
_CJK_PERIODS = "上午|下午|凌晨|早上|中午|晚上|午前|午後|오전|오후"
_CJK_PM = frozenset({"下午", "晚上", "午後", "오후"})
_CJK_AM = frozenset({"上午", "凌晨", "早上", "午前", "오전"})

HEADER_RE = re.compile(
    rf"[{_MARKS}]*"
    r"(\[)?"  # 1: iOS bracket
    r"(\d{1,4})([./-])\s?(\d{1,2})\3\s?(\d{1,4})\.?"  # 2,4,5: date fields; 3: separator
    r",?\s"
    r"(?:klo\s|um\s)?"  # fi "klo", rare de "um"
    rf"(?:({_CJK_PERIODS})\s?)?"  # 6: period before the hour
    r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"  # 7,8,9: hour, minute, second
    r"(?:[\s]?([AaPp])\.?\s?[Mm]\.?)?"  # 10: a.m./p.m. in any spelling
    r"\.?"
    r"(?(1)\]\s?|(?:\s[-–]\s|:\s))"  # "] " after a bracket, else " - " (or old ": ")
)


class DateOrder(StrEnum):
    """How the two short date fields of a file are ordered."""

    DMY = "dmy"
    MDY = "mdy"


@dataclass(frozen=True, slots=True)
class BadStamp:
    """Why a line that looks like a message start has an impossible time."""

    field: str  # "date" or "time"
    message: str


#: Time zones whose phones default to month-first dates (US and its territories,
#: Philippines). Used only when a file carries no day > 12 to decide by.
_MDY_ZONES = ("America/", "US/", "Pacific/Honolulu", "Pacific/Guam", "Asia/Manila")
_NOT_MDY = (
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Argentina",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Caracas",
    "America/Montevideo",
)


def _votes(match: re.Match[str]) -> tuple[int, int]:
    """(dmy, mdy) evidence from one header: a first field > 12 must be the day."""
    d1 = match.group(2)
    if len(d1) > 2:
        return 0, 0
    a = int(d1)
    b = int(match.group(4))
    if a > 12 >= b:
        return 1, 0
    if b > 12 >= a:
        return 0, 1
    return 0, 0


def detect_order(lines: Iterable[str], tz: tzinfo, *, enough: int = 5) -> DateOrder:
    """The file's day/month order, from as many lines as it takes to be sure.

    Reads until one order has ``enough`` unambiguous votes (a field > 12) and
    the other none, so a typical export is decided in its first days; a file
    with no day > 12 anywhere is read to the end (flat memory, it is a plain
    line scan) and then falls back to hints: a 12-hour clock with Latin AM/PM
    and ``/`` dates is the US layout; a US time zone in ``tz`` says the same;
    anything else is day-first, as most of the world writes dates.
    """
    dmy = mdy = 0
    latin_ampm = slash = False
    for line in lines:
        m = HEADER_RE.match(line)
        if m is None:
            continue
        a, b = _votes(m)
        dmy += a
        mdy += b
        if m.group(10):
            latin_ampm = True
        if m.group(3) == "/":
            slash = True
        if (dmy >= enough and not mdy) or (mdy >= enough and not dmy):
            break
    if dmy != mdy:
        return DateOrder.DMY if dmy > mdy else DateOrder.MDY
    if latin_ampm and slash:
        return DateOrder.MDY
    key = str(getattr(tz, "key", tz))
    if key.startswith(_MDY_ZONES) and not key.startswith(_NOT_MDY):
        return DateOrder.MDY
    return DateOrder.DMY


def _hour24(hour: int, latin: str | None, period: str | None) -> int | None:
    """24-hour value of a 12-hour reading, or None when it cannot be one."""
    if latin is not None:
        if not 0 <= hour <= 12:
            return None
        pm = latin in "Pp"
    elif period is not None:
        if not 0 <= hour <= 12:
            return None
        if period == "中午":  # noon: 11 and 12 stay, 1..10 are afternoon
            return hour + 12 if hour < 11 else hour
        pm = period in _CJK_PM
    else:
        return hour
    if pm:
        return hour if hour == 12 else hour + 12
    return 0 if hour == 12 else hour


def stamp(match: re.Match[str], order: DateOrder, tz: tzinfo) -> datetime | BadStamp:
    """The aware local time of a header, or why it is impossible."""
    _, d1, _, d2, d3, period, hh, mm, ss, latin = match.groups()
    if len(d1) == 4:
        year, month, day = int(d1), int(d2), int(d3)
    else:
        year = int(d3)
        if len(d3) <= 2:
            year += 2000
        if order is DateOrder.DMY:
            day, month = int(d1), int(d2)
        else:
            month, day = int(d1), int(d2)
    hour: int | None = int(hh)
    if latin is not None or period is not None:
        hour = _hour24(int(hh), latin, period)
    minute = int(mm)
    second = int(ss) if ss else 0
    if hour is None or hour > 23 or minute > 59 or second > 59:
        return BadStamp("time", f"impossible time {match.group(0).strip()!r}")
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return BadStamp(
            "date", f"impossible date {match.group(0).strip()!r} (read as {order.value})"
        )
