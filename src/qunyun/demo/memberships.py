"""Who joins a group when, how, invited by whom, and who leaves or gets kicked.

Joins come in three waves: a founding cohort right after the group is created
(mostly invited by the owner), an optional channel campaign (many joins through
one channel code in a few days), and organic joins spread over the group's life
(later for growing groups, earlier for dying ones). Inviters are always members
present at the join, biased to early members, which yields invite chains.
"""

from __future__ import annotations

import math
import random

from qunyun.demo import names
from qunyun.demo.plan import (
    BOT_SHARE,
    KICK,
    LEAVE,
    METHODS,
    NOBODY,
    SELF,
    GroupPlan,
    Member,
    SpamAccount,
    pick,
)
from qunyun.demo.timing import DAY, DayGrid, at_rhythm
from qunyun.events import IdentityRef

FOUNDERS = {"growing": 0.15, "stable": 0.3, "dying": 0.45}
CHURN = {"growing": 0.12, "stable": 0.22, "dying": 0.3}
FOUNDING, CAMPAIGN, ORGANIC = 0, 1, 2


def build_members(
    rng: random.Random, grid: DayGrid, g: GroupPlan, roster: list[IdentityRef]
) -> None:
    """Fill ``g.members`` (join order, owner first) and ``g.admins``."""
    life = g.life
    owner = Member(roster[0], life.created, weight=5.0 + rng.paretovariate(1.2))
    timed = sorted(((_join_time(rng, grid, g), ref) for ref in roster[1:]), key=_first)
    members = [owner]
    for (t, wave), ref in timed:
        m = Member(ref, t)
        m.weight = _weight(rng, g)
        members.append(m)
        _maybe_exit(rng, grid, g, m)
        _join_method(rng, g, members, m, wave)
    g.members = members
    g.admins = [0]
    for i in range(1, min(len(members), 4)):
        if len(g.admins) < 3 and rng.random() < 0.6:
            members[i].exit, members[i].exit_kind = math.inf, 0  # admins stay
            members[i].weight = max(members[i].weight, 2.0)
            g.admins.append(i)


def _first(item: tuple[tuple[float, int], IdentityRef]) -> float:
    return item[0][0]


def _join_time(rng: random.Random, grid: DayGrid, g: GroupPlan) -> tuple[float, int]:
    life = g.life
    end = grid.end - 120.0
    r = rng.random()
    if r < FOUNDERS[life.kind]:
        t = life.created + 30.0 + min(rng.expovariate(1 / (8 * 3600)), 3 * DAY)
        return min(t, end), FOUNDING
    if life.campaign is not None and r < FOUNDERS[life.kind] + 0.3:
        c0, length = life.campaign
        t = at_rhythm(rng, grid, grid.origin + (c0 + rng.random() * length) * DAY)
        return min(max(t, life.created + 60.0), end), CAMPAIGN
    u = rng.random()
    if life.kind == "growing":
        stop, u = grid.end, u**0.6
    elif life.decay_from is not None:
        stop, u = grid.origin + life.decay_from * DAY, u**1.5
    else:
        stop = grid.end
    t = at_rhythm(rng, grid, life.created + 60.0 + (stop - life.created - 60.0) * u)
    return min(max(t, life.created + 60.0), end), ORGANIC


def _weight(rng: random.Random, g: GroupPlan) -> float:
    """Message weight: most members lurk (0), speakers follow a Pareto tail."""
    lurk = 0.55 + 0.25 * ((g.index * 7919) % 100) / 100
    if rng.random() < lurk:
        return 0.0
    return min(rng.paretovariate(1.16), 400.0)


def _maybe_exit(rng: random.Random, grid: DayGrid, g: GroupPlan, m: Member) -> None:
    life = g.life
    t = math.inf
    if rng.random() < CHURN[life.kind]:
        t = m.join + 600.0 + rng.expovariate(1 / (75 * DAY))
    if life.decay_from is not None and t == math.inf and rng.random() < 0.4:
        fade = grid.origin + life.decay_from * DAY
        t = max(fade, m.join + 600.0) + rng.random() * (grid.end - fade)
    if t < grid.end - 60.0:
        t = max(at_rhythm(rng, grid, t), m.join + 600.0)
    if t < grid.end - 60.0:
        m.exit = t
        m.exit_kind = KICK if rng.random() < 0.07 else LEAVE


def _join_method(
    rng: random.Random, g: GroupPlan, members: list[Member], m: Member, wave: int
) -> None:
    platform = g.platform
    if wave == CAMPAIGN:
        m.method, m.actor, m.channel = "channel_code", SELF, g.channels[0]
        return
    if wave == FOUNDING:
        method = "invited_by" if platform == "wechat" or rng.random() < 0.5 else "invite_link"
    else:
        method = pick(rng, METHODS[platform])
    m.method = method
    if method == "invited_by":
        m.actor = 0 if wave == FOUNDING and rng.random() < 0.7 else _inviter(rng, members, m)
    elif method == "qr_code":
        m.actor = _inviter(rng, members, m) if rng.random() < 0.7 else NOBODY
    elif method == "channel_code":
        m.actor = SELF
        m.channel = g.channels[0 if rng.random() < 0.5 else 1 + (rng.random() < 0.4)]
    elif method == "invite_link":
        m.actor = SELF
        m.link = rng.choice(g.links)
    else:
        m.actor = NOBODY


def _inviter(rng: random.Random, members: list[Member], m: Member) -> int:
    """An earlier member still present at ``m.join``, early members preferred."""
    k = len(members) - 1  # members[-1] is m itself
    for _ in range(4):
        j = int(k * rng.random() ** 2)
        if members[j].join < m.join < members[j].exit:
            return j
    return 0


def add_spam(rng: random.Random, grid: DayGrid, g: GroupPlan, seen: set[str]) -> None:
    """Ad bursts: fresh accounts join, post 1-4 ads within minutes, get kicked."""
    start = g.life.created + DAY
    stop = grid.end - 2 * 3600.0
    if stop <= start:
        return
    expected = (stop - start) / DAY / 40.0 * (0.5 + min(g.size, 10.0) / 10.0)
    bursts = int(expected) + (rng.random() < expected - int(expected))
    zh = g.lang == "zh"
    for _ in range(bursts):
        t = start + rng.random() * (stop - start)
        for _acc in range(1 + (rng.random() < 0.4) + (rng.random() < 0.2)):
            ident = names.spam_identity(rng, g.platform, zh, seen)
            g.spam.append(SpamAccount(ident, t + rng.random() * 600.0, rng.randint(1, 4)))


def add_bot(rng: random.Random, grid: DayGrid, g: GroupPlan, bots: tuple[IdentityRef, ...]) -> None:
    share = min(BOT_SHARE[g.platform] * (1.5 if g.checkin else 1.0), 0.9)
    if rng.random() >= share:
        return
    g.bot = bots[0] if g.checkin and g.platform == "wechat" else rng.choice(bots)
    g.bot_join = min(g.life.created + 300.0 + rng.random() * 2 * DAY, grid.end - 3600.0)


def reminder_times(grid: DayGrid, g: GroupPlan) -> list[float]:
    """Daily check-in reminders of the group's bot (local 08:00 or 21:00)."""
    if g.bot is None or not g.checkin:
        return []
    hour = 8 if g.index % 2 == 0 else 21
    first = grid.day_of(g.bot_join)
    out = []
    for d in range(first, grid.n_days):
        t = grid.origin + d * DAY + hour * 3600.0
        if g.bot_join < t < grid.end:
            out.append(t)
    return out


def fixed_events(grid: DayGrid, g: GroupPlan) -> int:
    """Events of the group that are not human messages: member, spam and bot events."""
    n = sum(2 if m.exit_kind else 1 for m in g.members)
    n += sum(2 + s.ads for s in g.spam)
    if g.bot is not None:
        n += 1 + sum(1 for m in g.members[1:] if m.join > g.bot_join + 60.0)
        n += len(reminder_times(grid, g))
    return n
