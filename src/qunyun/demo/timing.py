"""When things happen: the day grid, daily activity curves and the diurnal rhythm.

All rhythm is in Asia/Shanghai local time (UTC+8 all year, no DST), so day
boundaries are plain arithmetic on epoch seconds: no tz database lookups in the
hot loop. A group's *day curve* (weights per day) carries its lifecycle
(growing, stable, dying), its weekday/weekend taste, campaign bumps and day to
day noise; message times are drawn day-by-curve, then second-of-day from a
pre-computed inverse-CDF table of the hourly rhythm.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
DAY = 86400.0
#: Default end of the demo window, fixed so that equal arguments give equal events:
#: 2025-07-01 00:00 Asia/Shanghai.
DEFAULT_END = datetime(2025, 6, 30, 16, 0, tzinfo=UTC)

#: Relative activity per local hour 0..23: a lunch peak and the 20:00-23:00 evening peak.
WEEKDAY_HOURS = (
    0.30,
    0.14,
    0.07,
    0.04,
    0.04,
    0.08,
    0.30,
    0.80,
    1.40,
    1.50,
    1.45,
    1.80,
    2.60,
    2.30,
    1.35,
    1.25,
    1.25,
    1.35,
    1.55,
    2.00,
    2.80,
    3.20,
    3.00,
    1.70,
)
#: Weekends: late mornings, a broad afternoon, the same evening peak.
WEEKEND_HOURS = (
    0.60,
    0.35,
    0.15,
    0.07,
    0.04,
    0.04,
    0.10,
    0.30,
    0.70,
    1.20,
    1.60,
    1.90,
    2.30,
    2.20,
    1.80,
    1.70,
    1.70,
    1.70,
    1.80,
    2.20,
    2.90,
    3.20,
    2.90,
    1.80,
)
TABLE_BITS = 12


@dataclass(frozen=True, slots=True)
class DayGrid:
    """The demo window [start, end) cut into local days starting at ``origin``."""

    start: float
    end: float
    origin: float
    n_days: int
    weekend: tuple[int, ...]

    @classmethod
    def make(cls, end: datetime, days: int) -> DayGrid:
        end_t = end.timestamp()
        start_t = end_t - days * DAY
        local = datetime.fromtimestamp(start_t, SHANGHAI)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        origin = midnight.timestamp()
        n_days = math.ceil((end_t - origin) / DAY)
        weekend = tuple(
            1 if (midnight + timedelta(days=d)).weekday() >= 5 else 0 for d in range(n_days)
        )
        return cls(start_t, end_t, origin, n_days, weekend)

    def day_of(self, t: float) -> int:
        return min(max(int((t - self.origin) // DAY), 0), self.n_days - 1)


def diurnal_table(hours: tuple[float, ...]) -> list[int]:
    """2**TABLE_BITS second-of-day offsets (whole minutes) spread like ``hours``.

    Built by inverse CDF at evenly spaced quantiles, so it is deterministic and a
    uniform index into it samples the rhythm with one ``getrandbits`` call.
    """
    size = 1 << TABLE_BITS
    minutes = [hours[m // 60] for m in range(1440)]
    total = sum(minutes)
    cum: list[float] = []
    acc = 0.0
    for w in minutes:
        acc += w / total
        cum.append(acc)
    return [min(bisect_right(cum, (k + 0.5) / size), 1439) * 60 for k in range(size)]


@cache
def rhythm_tables() -> tuple[list[int], list[int]]:
    """(weekday, weekend) tables, built once per process."""
    return diurnal_table(WEEKDAY_HOURS), diurnal_table(WEEKEND_HOURS)


def at_rhythm(rng: random.Random, grid: DayGrid, t: float) -> float:
    """A time on the same local day as ``t`` with the hour drawn from the rhythm.

    Joins, leaves and group creations happen when people are awake, too.
    """
    d = grid.day_of(t)
    table = rhythm_tables()[grid.weekend[d]]
    return grid.origin + d * DAY + table[rng.getrandbits(TABLE_BITS)] + rng.random() * 60.0


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The shape of one group's life inside the window (all in day indices)."""

    kind: str  # "growing" | "stable" | "dying"
    created: float  # epoch seconds
    weekend_factor: float
    campaign: tuple[int, int] | None  # (first day, length)
    decay_from: int | None  # dying groups: day the fade-out starts


def day_weights(grid: DayGrid, life: Lifecycle, rng: random.Random) -> list[float]:
    """Activity weight of each day of the grid for one group (0 before it exists)."""
    first = grid.day_of(life.created)
    n = grid.n_days
    out = [0.0] * n
    for d in range(first, n):
        w = rng.lognormvariate(0.0, 0.3)
        if rng.random() < 0.015:
            w *= 2.5  # a hot topic day
        if life.kind == "growing":
            w *= 0.6 + 0.8 * (d - first) / max(n - first, 1)
        elif life.decay_from is not None and d >= life.decay_from:
            w *= math.exp(-(d - life.decay_from) / 6.0)
        if grid.weekend[d]:
            w *= life.weekend_factor
        if life.campaign is not None:
            c0, length = life.campaign
            if c0 <= d < c0 + length:
                w *= 1.8
            elif d >= c0 + length:
                w *= 1.0 + 0.8 * math.exp(-(d - c0 - length) / 7.0)
        out[d] = w
    return out


def cumulative(weights: list[float]) -> list[float]:
    """``cum[d]`` = weight mass before day d; ``len(weights) + 1`` entries."""
    cum = [0.0]
    acc = 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    return cum


def mass_at(grid: DayGrid, weights: list[float], cum: list[float], t: float) -> float:
    """Curve mass before time ``t`` (linear inside a day): exposure of a membership."""
    x = (t - grid.origin) / DAY
    d = int(x)
    if d < 0:
        return 0.0
    if d >= grid.n_days:
        return cum[-1]
    return cum[d] + (x - d) * weights[d]
