"""What a metric is about: some groups and a range of local calendar days.

Days are counted in each group's own time zone, the same way the rollups store
them (``local_day`` = days since 1970-01-01 local), so "June" means June where
the group lives.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from qunyun.errors import UserError
from qunyun.store.queries import find_groups
from qunyun.store.schema import group_daily

EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def day_date(n: int) -> date:
    return EPOCH + timedelta(days=n)


def local_day(ts: datetime, tz: ZoneInfo) -> int:
    return day_number(ts.astimezone(tz).date())


@dataclass(frozen=True)
class Scope:
    groups: tuple[Any, ...]  # group rows (id, platform, external_id, title, tz, …)
    first_day: int  # inclusive local day numbers
    last_day: int

    @property
    def group_ids(self) -> list[int]:
        return [g.id for g in self.groups]

    @property
    def days(self) -> int:
        return self.last_day - self.first_day + 1

    def zone(self, group_id: int) -> ZoneInfo:
        return ZoneInfo(next(g.tz for g in self.groups if g.id == group_id))

    def describe(self) -> dict[str, Any]:
        return {
            "groups": [
                {"id": g.id, "platform": g.platform, "title": g.title or g.external_id, "tz": g.tz}
                for g in self.groups
            ],
            "from": day_date(self.first_day).isoformat(),
            "to": day_date(self.last_day).isoformat(),
            "days": self.days,
        }


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UserError(
            f"{what} must be a date like 2025-06-30, not {text!r}",
            zh=f"{what} 须为 2025-06-30 这样的日期，而不是 {text!r}",
            code="bad_date",
        ) from exc


def parse_month(text: str) -> tuple[date, date]:
    try:
        year, month = (int(x) for x in text.split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError) as exc:
        raise UserError(
            f"--month must look like 2025-06, not {text!r}",
            zh=f"--month 须为 2025-06 这样的月份，而不是 {text!r}",
            code="bad_month",
        ) from exc
    return first, date(year, month, calendar.monthrange(year, month)[1])


def resolve(
    conn: Connection,
    group: str | None = None,
    start: str | None = None,
    end: str | None = None,
    month: str | None = None,
) -> Scope:
    """The scope named by CLI/API arguments; defaults to the last full data month."""
    return scope_of(conn, tuple(find_groups(conn, group)), start, end, month)


def scope_of(
    conn: Connection,
    rows: tuple[Any, ...],
    start: str | None = None,
    end: str | None = None,
    month: str | None = None,
) -> Scope:
    """The scope of these group rows over the range the arguments name."""
    if not rows:
        raise UserError(
            "the store has no groups yet: import an export or run `qunyun demo`",
            zh="还没有任何群：请先导入聊天记录或运行 qunyun demo",
            code="empty_store",
        )
    if month and (start or end):
        raise UserError(
            "give --month or --from/--to, not both", zh="--month 与 --from/--to 只能选一"
        )
    if month:
        first, last = parse_month(month)
    else:
        newest = _newest_day(conn, [g.id for g in rows])
        last = parse_day(end, "--to") if end else newest
        first = parse_day(start, "--from") if start else last - timedelta(days=29)
    if last < first:
        raise UserError(
            f"--to {last} is before --from {first}", zh=f"结束日期 {last} 早于开始日期 {first}"
        )
    return Scope(rows, day_number(first), day_number(last))


def _newest_day(conn: Connection, gids: list[int]) -> date:
    day = conn.execute(
        select(func.max(group_daily.c.local_day)).where(group_daily.c.group_id.in_(gids))
    ).scalar()
    if day is None:
        return datetime.now(UTC).date()
    return day_date(int(day))
