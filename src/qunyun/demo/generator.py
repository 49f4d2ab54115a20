"""Entry point of the demo community generator: plan first, then stream.

``generate(groups, members, days, seed, end, events)`` builds a :class:`DemoPlan`
(groups, identities, memberships, and how many messages each member writes) in
time linear in ``members``, then ``plan.events()`` streams the events group by
group. ``plan.total`` is the exact number of events the stream will yield.

Event budget: without ``events`` the community writes ``MESSAGES_PER_MEMBER_DAY``
messages per member per day on top of its member, spam and bot events, which
is about ``0.130 * members * days + 2.5 * members`` events (10 million for 200,000
members over 365 days). With ``events`` the human messages are scaled so that
the total matches the budget (to well within 1%).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from qunyun.demo.memberships import add_bot, add_spam, build_members, fixed_events
from qunyun.demo.names import bot_refs
from qunyun.demo.plan import GroupPlan, assign_identities, make_group, member_exposure
from qunyun.demo.stream import Shared, group_stream
from qunyun.demo.texts import build_pools
from qunyun.demo.timing import (
    DAY,
    DEFAULT_END,
    WEEKDAY_HOURS,
    WEEKEND_HOURS,
    DayGrid,
    diurnal_table,
)
from qunyun.errors import UserError
from qunyun.events import Event

MESSAGES_PER_MEMBER_DAY = 0.130


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """A planned demo community; iterate :meth:`events` to get its events."""

    shared: Shared
    groups: tuple[GroupPlan, ...]
    members: int
    total: int

    def events(self) -> Iterator[Event]:
        """Every event, group after group, each group in time order."""
        for g in self.groups:
            yield from group_stream(self.shared, g)

    def group_events(self, index: int) -> Iterator[Event]:
        """The events of group ``index`` alone (e.g. to split work across processes)."""
        return group_stream(self.shared, self.groups[index])


def estimate_events(members: int, days: int) -> int:
    """Rough size of the default budget, for help texts and progress bars."""
    return round(members * days * MESSAGES_PER_MEMBER_DAY + members * 2.5)


def generate(
    groups: int,
    members: int,
    days: int,
    seed: int = 0,
    end: datetime | None = None,
    events: int | None = None,
) -> DemoPlan:
    """Plan a synthetic community of ``groups`` groups and ``members`` identities.

    The window is the ``days`` days before ``end`` (default: the fixed
    :data:`~qunyun.demo.timing.DEFAULT_END`, so equal arguments always give
    byte-identical events). ``events`` is a target total event count.
    """
    _check(groups, members, days, end, events)
    grid = DayGrid.make(end or DEFAULT_END, days)
    rng = random.Random(seed)
    seen: set[str] = set()
    plans = [make_group(rng, i, grid, seen) for i in range(groups)]
    roster = assign_identities(rng, plans, members, seen)
    bots = bot_refs()
    for g in plans:
        build_members(rng, grid, g, roster[g.index])
        add_spam(rng, grid, g, seen)
        add_bot(rng, grid, g, bots[g.platform])
    del roster, seen
    fixed = [fixed_events(grid, g) for g in plans]
    human = round(MESSAGES_PER_MEMBER_DAY * members * days)
    if events is not None:
        human = events - sum(fixed)
        if human < 0:
            raise UserError(
                f"an event budget of {events} is too small: {groups} groups with {members} "
                f"members already need {sum(fixed)} join/leave/spam/bot events",
                zh=f"事件预算 {events} 太小：{groups} 个群、{members} 名成员"
                f"仅入群/退群等事件就需要 {sum(fixed)} 条，请减少成员数或提高预算",
                code="demo_budget",
            )
    _allocate(rng, grid, plans, human)
    for g, f in zip(plans, fixed, strict=True):
        g.n_events = f + sum(m.n_msgs for m in g.members)
    return DemoPlan(
        _shared(seed, grid, plans), tuple(plans), members, sum(g.n_events for g in plans)
    )


def _check(groups: int, members: int, days: int, end: datetime | None, events: int | None) -> None:
    if groups < 1 or days < 1:
        raise UserError(
            "groups and days must be at least 1", zh="群数和天数至少为 1", code="demo_args"
        )
    if members < 2 * groups:
        raise UserError(
            f"need at least 2 members per group ({2 * groups} for {groups} groups)",
            zh=f"每个群至少需要 2 名成员（{groups} 个群至少 {2 * groups} 人）",
            code="demo_args",
        )
    if end is not None and end.tzinfo is None:
        raise UserError(
            "the demo end time needs a timezone",
            zh="演示数据的结束时间需要带时区",
            code="demo_args",
        )
    if events is not None and events < 1:
        raise UserError(
            "the event budget must be positive", zh="事件预算必须为正数", code="demo_args"
        )


def _allocate(rng: random.Random, grid: DayGrid, plans: list[GroupPlan], human: int) -> None:
    """Share ``human`` messages over speakers ∝ group chattiness × weight × exposure.

    Stochastic rounding keeps the sum within a few hundred of ``human`` while
    every member's count stays an integer fixed at plan time.
    """
    shares: list[tuple[GroupPlan, int, float]] = []
    total = 0.0
    for g in plans:
        for i, m in enumerate(g.members):
            if m.weight > 0.0:
                x = g.chat * m.weight * member_exposure(grid, g, m)
                if x > 0.0:
                    shares.append((g, i, x))
                    total += x
    if total <= 0.0:
        return
    scale = human / total
    for g, i, x in shares:
        want = x * scale
        n = int(want)
        g.members[i].n_msgs = n + (rng.random() < want - n)


def _shared(seed: int, grid: DayGrid, plans: list[GroupPlan]) -> Shared:
    weekday, weekend = diurnal_table(WEEKDAY_HOURS), diurnal_table(WEEKEND_HOURS)
    starts = [grid.origin + d * DAY for d in range(grid.n_days)]
    tables = [weekend if grid.weekend[d] else weekday for d in range(grid.n_days)]
    keys = sorted({(g.lang, g.theme) for g in plans})
    pools = {k: build_pools(seed, k[0], k[1]) for k in keys}
    return Shared(seed, grid, starts, tables, pools)
