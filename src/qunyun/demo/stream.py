"""Turn one planned group into its stream of events, in time order.

A group's timeline is built as two flat lists (epoch seconds, packed codes
``index << 4 | kind``), sorted once by time through a float key, and then
walked to build the events. Only the current group's timeline (or, for a huge
group, one piece of it: see :func:`chunk_bounds`) is in memory.
This is the hot path of the demo: every per-event step is a few list lookups
and one cheap random call; ``Event``/``datetime`` construction dominates.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qunyun.demo.memberships import reminder_times
from qunyun.demo.plan import KICK, SELF, GroupPlan, Member
from qunyun.demo.talk import Talk
from qunyun.demo.texts import Pools
from qunyun.demo.timing import DAY, TABLE_BITS, DayGrid
from qunyun.events import Event, IdentityRef, Kind

SOURCE = "demo"
#: Upper size of one in-memory piece of a group's timeline.
CHUNK_EVENTS = 250_000
MSG, JOIN, EXIT, SPAM_JOIN, SPAM_AD, SPAM_KICK, BOT_JOIN, BOT_WELCOME, BOT_REMIND = range(9)
KICK_REASONS = {"zh": ("违反群规", "发广告", None, None), "en": ("breaking the rules", None)}


@dataclass(frozen=True, slots=True)
class Shared:
    """What every group's stream reads: the grid and per-day time tables."""

    seed: int
    grid: DayGrid
    starts: list[float]  # epoch seconds of each local midnight
    tables: list[list[int]]  # per day: second-of-day table (weekday or weekend)
    pools: dict[tuple[str, str], Pools]


@dataclass(slots=True)
class _Speaker:
    """A member who writes: their packed code, message count and stay in curve mass."""

    code: int
    n: int
    t0: float
    t1: float
    lo: float
    span: float
    done: int = 0


def fixed_timeline(
    rng: random.Random, grid: DayGrid, g: GroupPlan
) -> tuple[list[float], list[int]]:
    """Times and codes of everything but human messages, sorted by time."""
    times: list[float] = []
    codes: list[int] = []
    for i, m in enumerate(g.members):
        times.append(m.join)
        codes.append(i << 4 | JOIN)
        if m.exit_kind:
            times.append(m.exit)
            codes.append(i << 4 | EXIT)
    _spam(rng, grid, g, times, codes)
    _bot(rng, grid, g, times, codes)
    order = sorted(range(len(times)), key=times.__getitem__)
    return [times[k] for k in order], [codes[k] for k in order]


def chunk_bounds(grid: DayGrid, g: GroupPlan) -> list[float]:
    """Split a big group's life at local midnights into pieces of ~CHUNK_EVENTS events.

    Only one piece's timeline is in memory at a time, so a huge event budget on
    few groups cannot blow up memory. Most groups are one piece.
    """
    first = grid.day_of(g.life.created)
    k = min(max(1, math.ceil(g.n_events / CHUNK_EVENTS)), grid.n_days - first)
    inner = [grid.origin + (first + (grid.n_days - first) * j // k) * DAY for j in range(1, k)]
    return [-math.inf, *inner, math.inf]


def _speakers(grid: DayGrid, g: GroupPlan) -> list[_Speaker]:
    out = []
    for i, m in enumerate(g.members):
        if m.n_msgs:
            t0, t1 = m.join + 1.0, min(m.exit, grid.end) - 1.0
            lo = _mass(grid, g.weights, g.cum, t0)
            span = _mass(grid, g.weights, g.cum, t1) - lo
            out.append(_Speaker(i << 4 | MSG, m.n_msgs, t0, t1, lo, span))
    return out


def _messages(
    rng: random.Random,
    sh: Shared,
    g: GroupPlan,
    sp: _Speaker,
    window: tuple[float, float],
    times: list[float],
    codes: list[int],
) -> None:
    """Draw the speaker's messages inside ``window``: a day by the group curve,
    then a second of that day by the rhythm."""
    a, b = window
    grid, cum, weights = sh.grid, g.cum, g.weights
    if b >= sp.t1:
        upto = sp.n
    elif b <= sp.t0:
        upto = 0
    else:
        upto = round(sp.n * (_mass(grid, weights, cum, b) - sp.lo) / sp.span)
    count, sp.done = upto - sp.done, upto
    if count <= 0:
        return
    t0, t1 = max(sp.t0, a), min(sp.t1, b)
    lo = _mass(grid, weights, cum, t0)
    span = _mass(grid, weights, cum, t1) - lo
    rnd, bits, starts, tables = rng.random, rng.getrandbits, sh.starts, sh.tables
    add_t, add_c, code = times.append, codes.append, sp.code
    for _ in range(count):
        d = bisect_right(cum, lo + rnd() * span) - 1
        t = starts[d] + tables[d][bits(TABLE_BITS)] + rnd() * 60.0
        if not t0 < t < t1:  # the first or last day of the stay: stay inside it
            t = t0 + rnd() * (t1 - t0)
        add_t(t)
        add_c(code)


def _mass(grid: DayGrid, weights: list[float], cum: list[float], t: float) -> float:
    x = (t - grid.origin) / DAY
    d = min(int(x), grid.n_days - 1)
    return cum[d] + (x - d) * weights[d]


def _spam(
    rng: random.Random, grid: DayGrid, g: GroupPlan, times: list[float], codes: list[int]
) -> None:
    for s, acc in enumerate(g.spam):
        t = acc.join
        times.append(t)
        codes.append(s << 4 | SPAM_JOIN)
        for _ in range(acc.ads):
            t += 5.0 + rng.random() * 240.0
            times.append(t)
            codes.append(s << 4 | SPAM_AD)
        times.append(min(t + 60.0 + rng.expovariate(1 / 900), grid.end - 1.0))
        codes.append(s << 4 | SPAM_KICK)


def _bot(
    rng: random.Random, grid: DayGrid, g: GroupPlan, times: list[float], codes: list[int]
) -> None:
    if g.bot is None:
        return
    times.append(g.bot_join)
    codes.append(BOT_JOIN)
    for i, m in enumerate(g.members):
        if i and m.join > g.bot_join + 60.0:
            times.append(m.join + 2.0 + rng.random() * 18.0)
            codes.append(i << 4 | BOT_WELCOME)
    for t in reminder_times(grid, g):
        times.append(t + rng.random() * 30.0)
        codes.append(BOT_REMIND)


def group_stream(sh: Shared, g: GroupPlan) -> Iterator[Event]:
    """All events of one group in time order, ids ``<group id>:<n>`` from 1."""
    rng = random.Random(f"qunyun-demo:{sh.seed}:{g.index}")
    fixed_t, fixed_c = fixed_timeline(rng, sh.grid, g)
    speakers = _speakers(sh.grid, g)
    pools = sh.pools[(g.lang, g.theme)]
    talk, other = Talk(rng, g, pools), _Other(rng, g, pools)
    idents = [m.ident for m in g.members]
    table, note, bits = talk.table, talk.note, rng.getrandbits
    gref, prefix = g.ref, g.ref.external_id + ":"
    fromts, message = datetime.fromtimestamp, Kind.MESSAGE
    bounds = chunk_bounds(sh.grid, g)
    n = f = 0
    for window in itertools.pairwise(bounds):
        f_end = bisect_left(fixed_t, window[1], f)
        times, codes = fixed_t[f:f_end], fixed_c[f:f_end]
        f = f_end
        for sp in speakers:
            _messages(rng, sh, g, sp, window, times, codes)
        for k in sorted(range(len(times)), key=times.__getitem__):
            n += 1
            c = codes[k]
            t = times[k]
            sid = prefix + str(n)
            ts = fromts(int(t), UTC)
            if c & 15 == MSG:
                i = c >> 4
                payload = table[bits(7)](i, t, sid)
                note(i, sid)
                yield Event(SOURCE, sid, message, ts, gref, idents[i], None, payload)
            else:
                yield other.event(c, sid, ts)


class _Other:
    """Builds the rarer events: member changes, spam, bot messages."""

    def __init__(self, rng: random.Random, g: GroupPlan, pools: Pools) -> None:
        self.rnd = rng.random
        self.g = g
        self.texts = pools.texts
        self.spam_pool = pools.spam
        self.reasons = KICK_REASONS[g.lang]
        self.spam_reason = "广告" if g.lang == "zh" else "spam"
        self.images = ("qrcode.jpg", "二维码.png", "IMG_8841.jpg")

    def event(self, c: int, sid: str, ts: datetime) -> Event:
        kind, i, g = c & 15, c >> 4, self.g
        if kind == JOIN:
            return self._join(g.members[i], sid, ts)
        if kind == EXIT:
            return self._exit(g.members[i], sid, ts)
        if kind in (SPAM_JOIN, SPAM_AD, SPAM_KICK):
            return self._spam(kind, g.spam[i].ident, sid, ts)
        return self._bot(kind, i, sid, ts)

    def _bot(self, kind: int, i: int, sid: str, ts: datetime) -> Event:
        g = self.g
        assert g.bot is not None
        payload: dict[str, Any]
        if kind == BOT_JOIN:
            payload = {"method": "invited_by"}
            return Event(SOURCE, sid, Kind.JOIN, ts, g.ref, g.members[0].ident, g.bot, payload)
        if kind == BOT_WELCOME:
            name = g.members[i].ident.display_name or g.members[i].ident.external_id
            text = self._pick(self.texts["welcome"]).replace("{name}", name)
            payload = {"text": text, "type": "text", "mentions": [name]}
        else:
            payload = {"text": self._pick(self.texts["reminder"]), "type": "text"}
        return Event(SOURCE, sid, Kind.MESSAGE, ts, g.ref, g.bot, None, payload)

    def _pick(self, seq: tuple[str, ...]) -> str:
        return seq[int(self.rnd() * len(seq))]

    def _join(self, m: Member, sid: str, ts: datetime) -> Event:
        payload: dict[str, object] = {"method": m.method}
        if m.channel:
            payload["channel_code"] = m.channel
        if m.link:
            payload["invite_link"] = m.link
        actor: IdentityRef | None = None
        if m.actor >= 0:
            actor = self.g.members[m.actor].ident
        elif m.actor == SELF:
            actor = m.ident
        return Event(SOURCE, sid, Kind.JOIN, ts, self.g.ref, actor, m.ident, payload)

    def _exit(self, m: Member, sid: str, ts: datetime) -> Event:
        if m.exit_kind != KICK:
            return Event(SOURCE, sid, Kind.LEAVE, ts, self.g.ref, m.ident, m.ident, {})
        admins = self.g.admins
        admin = self.g.members[admins[int(self.rnd() * len(admins))]].ident
        reason = self.reasons[int(self.rnd() * len(self.reasons))]
        payload = {"reason": reason} if reason else {}
        return Event(SOURCE, sid, Kind.KICK, ts, self.g.ref, admin, m.ident, payload)

    def _spam(self, kind: int, who: IdentityRef, sid: str, ts: datetime) -> Event:
        g = self.g
        if kind == SPAM_JOIN:
            method = "unknown"
            if self.rnd() < 0.6:
                method = "invite_link" if g.links else "qr_code"
            payload: dict[str, Any] = {"method": method}
            if method == "invite_link":
                payload["invite_link"] = g.links[0]
            actor = who if method == "invite_link" else None
            return Event(SOURCE, sid, Kind.JOIN, ts, g.ref, actor, who, payload)
        if kind == SPAM_KICK:
            admin = g.members[g.admins[int(self.rnd() * len(g.admins))]].ident
            payload = {"reason": self.spam_reason}
            return Event(SOURCE, sid, Kind.KICK, ts, g.ref, admin, who, payload)
        if self.rnd() < 0.3:  # a QR code picture
            text = "[图片]" if g.platform == "wechat" else None
            media = self.images[int(self.rnd() * len(self.images))]
            payload = {"type": "image", "media": media}
            if text:
                payload["text"] = text
        else:
            body, url = self.spam_pool[int(self.rnd() * len(self.spam_pool))]
            payload = {"text": body, "type": "text"}
            if url:
                payload["urls"] = [url]
        return Event(SOURCE, sid, Kind.MESSAGE, ts, g.ref, who, None, payload)
