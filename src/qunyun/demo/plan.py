"""The demo community's skeleton: groups, identities, memberships and event counts.

Everything per *member* is decided here (when they join, how, invited by whom,
whether and when they leave, how many messages they write); everything per
*event* (the exact second, the text) is decided while streaming in
``generator.py``. So memory is bounded by the member count, the exact number of
events is known before the first one is produced (progress bars, budgets), and
a group can be generated on its own from its seed.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field

from qunyun.demo import names
from qunyun.demo.texts import ALNUM, theme_titles, themes
from qunyun.demo.timing import DAY, DayGrid, Lifecycle, at_rhythm, cumulative, day_weights, mass_at
from qunyun.events import GroupRef, IdentityRef, JoinMethod

SELF = -1  # membership actor: the member themself
NOBODY = -2  # membership actor: unknown
LEAVE, KICK = 1, 2

CHECKIN_THEMES = frozenset({"python", "running", "kaoyan", "reading", "language", "books"})
BOT_SHARE = {"wechat": 0.15, "telegram": 0.45, "discord": 0.6}
#: Join methods of organic joins per platform (WeChat has no links; Discord lives on them).
METHODS: dict[str, tuple[tuple[str, float], ...]] = {
    "wechat": (("invited_by", 0.45), ("qr_code", 0.2), ("channel_code", 0.25), ("unknown", 0.1)),
    "telegram": (
        ("invite_link", 0.45),
        ("channel_code", 0.25),
        ("invited_by", 0.15),
        ("unknown", 0.15),
    ),
    "discord": (("invite_link", 0.7), ("channel_code", 0.2), ("unknown", 0.1)),
}


@dataclass(slots=True)
class Member:
    """One membership: an identity's stay in one group."""

    ident: IdentityRef
    join: float
    exit: float = math.inf
    exit_kind: int = 0  # 0 stays, LEAVE, KICK
    method: str = JoinMethod.UNKNOWN.value
    actor: int = NOBODY  # local index of the inviter/sharer, SELF or NOBODY
    channel: str | None = None
    link: str | None = None
    weight: float = 0.0  # 0 = lurker: never speaks
    n_msgs: int = 0


@dataclass(slots=True)
class SpamAccount:
    ident: IdentityRef
    join: float
    ads: int


@dataclass(slots=True)
class GroupPlan:
    index: int
    ref: GroupRef
    lang: str
    theme: str
    life: Lifecycle
    size: float
    chat: float
    checkin: bool
    weights: list[float] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    bot: IdentityRef | None = None
    bot_join: float = math.inf
    spam: list[SpamAccount] = field(default_factory=list)
    channels: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    n_events: int = 0

    @property
    def platform(self) -> str:
        return self.ref.platform


def pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r = rng.random()
    for value, p in table:
        r -= p
        if r < 0:
            return value
    return table[-1][0]


def make_group(rng: random.Random, index: int, grid: DayGrid, seen: set[str]) -> GroupPlan:
    """A group's identity and life shape; members come later."""
    platform = pick(rng, tuple(zip(names.PLATFORMS, names.PLATFORM_SHARE, strict=True)))
    lang = "zh" if rng.random() < names.ZH_SHARE[platform] else "en"
    theme = rng.choice(themes(lang))
    title = names.group_title(rng, rng.choice(theme_titles(lang, theme)), lang == "zh")
    ext = names.unique(rng, lambda r: names.group_id(r, platform), seen)
    life = _lifecycle(rng, grid)
    checkin = rng.random() < (0.6 if theme in CHECKIN_THEMES else 0.1)
    g = GroupPlan(
        index=index,
        ref=GroupRef(platform, ext, title),
        lang=lang,
        theme=theme,
        life=life,
        size=min(rng.paretovariate(1.1), 60.0),
        chat=rng.lognormvariate(0.0, 0.5),
        checkin=checkin,
    )
    g.weights = day_weights(grid, life, rng)
    g.cum = cumulative(g.weights)
    pool = names.CHANNELS_ZH if lang == "zh" else names.CHANNELS_EN
    g.channels = tuple(rng.sample(pool, 3))
    if platform != "wechat":
        host = "https://t.me/+" if platform == "telegram" else "https://discord.gg/"
        k = 16 if platform == "telegram" else 8
        g.links = tuple(host + "".join(rng.choices(ALNUM, k=k)) for _ in range(rng.randint(1, 3)))
    return g


def _lifecycle(rng: random.Random, grid: DayGrid) -> Lifecycle:
    span = grid.end - grid.start
    r = rng.random()
    kind = "growing" if r < 0.3 else "stable" if r < 0.75 else "dying"
    if rng.random() < 0.55:
        created = grid.start + rng.random() * min(3 * DAY, span * 0.05)
    else:
        created = grid.start + rng.random() ** 1.3 * 0.75 * span
    created = max(at_rhythm(rng, grid, created), grid.start)
    first = grid.day_of(created)
    decay_from = None
    if kind == "dying":
        decay_from = grid.n_days - rng.randint(21, 56)
        if decay_from < first + 14:
            kind, decay_from = "stable", None
    campaign = None
    if rng.random() < 0.4 and grid.n_days - 10 > first + 7:
        campaign = (rng.randint(first + 7, grid.n_days - 10), rng.randint(3, 5))
    return Lifecycle(kind, created, rng.uniform(0.65, 1.35), campaign, decay_from)


def assign_identities(
    rng: random.Random, groups: list[GroupPlan], members: int, seen: set[str]
) -> list[list[IdentityRef]]:
    """Create ``members`` identities and spread them over groups by group size.

    Identity ``k < len(groups)`` is the owner of group k. About a fifth of the
    others also sit in one to three more groups of the same platform.
    """
    by_platform: dict[str, list[GroupPlan]] = {p: [] for p in names.PLATFORMS}
    for g in groups:
        by_platform[g.platform].append(g)
    cum_all = _size_cum(groups)
    cum_p = {p: _size_cum(gs) for p, gs in by_platform.items()}
    roster: list[list[IdentityRef]] = [[] for _ in groups]
    for k in range(members):
        g = groups[k] if k < len(groups) else groups[_pick_by(rng, cum_all)]
        ref = _identity(rng, g, seen)
        roster[g.index].append(ref)
        if k >= len(groups) and rng.random() < 0.2:
            same = by_platform[g.platform]
            extra = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            chosen = {same[_pick_by(rng, cum_p[g.platform])].index for _ in range(extra)}
            for gi in sorted(chosen - {g.index}):
                roster[gi].append(ref)
    return roster


def _size_cum(groups: list[GroupPlan]) -> list[float]:
    return cumulative([g.size for g in groups])


def _pick_by(rng: random.Random, cum: list[float]) -> int:
    return min(bisect_right(cum, rng.random() * cum[-1]) - 1, len(cum) - 2)


def _identity(rng: random.Random, g: GroupPlan, seen: set[str]) -> IdentityRef:
    platform = g.platform
    zh = g.lang == "zh" if rng.random() < 0.9 else g.lang != "zh"
    ext = names.unique(rng, lambda r: names.identity_id(r, platform), seen)
    return IdentityRef(platform, ext, names.display_name(rng, platform, zh))


def member_exposure(grid: DayGrid, g: GroupPlan, m: Member) -> float:
    """Curve mass during the membership: how much chatting it could see."""
    end = min(m.exit, grid.end)
    return mass_at(grid, g.weights, g.cum, end) - mass_at(grid, g.weights, g.cum, m.join)
