"""Shape tests of the demo community on a small instance (fast: one ~20k-event run)."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from qunyun.demo import SOURCE, DemoPlan, generate, stream
from qunyun.demo.names import CHANNELS_EN, CHANNELS_ZH
from qunyun.errors import UserError
from qunyun.events import Event, JoinMethod, Kind

END = datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
DAYS = 120
ARGS = {"groups": 10, "members": 1600, "days": DAYS, "seed": 5, "end": END}
CJK = re.compile(r"[\u4e00-\u9fff]")
QUESTION = re.compile(
    r"[?？]$|吗|怎么|如何|请问|^(how|what|when|where|does|has|is|any|can)\b", re.I
)


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return generate(**ARGS)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def events(plan: DemoPlan) -> list[Event]:
    return list(plan.events())


def human_messages(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == Kind.MESSAGE and e.actor and not e.actor.is_bot]


def local(e: Event) -> datetime:
    return e.ts.astimezone(UTC) + timedelta(hours=8)


def test_same_arguments_give_identical_events() -> None:
    a = list(generate(3, 300, 20, seed=9).events())
    b = list(generate(3, 300, 20, seed=9).events())
    assert a == b
    assert repr(a) == repr(b)
    assert a != list(generate(3, 300, 20, seed=10).events())


def test_ids_unique_stable_and_total_exact(plan: DemoPlan, events: list[Event]) -> None:
    assert len(events) == plan.total
    ids = [e.source_event_id for e in events]
    assert len(set(ids)) == len(ids)
    for e in events:
        assert e.source == SOURCE
        gid, n = e.source_event_id.rsplit(":", 1)
        assert gid == e.group.external_id and n.isdigit()
        assert e.ts.tzinfo is not None
        assert END - timedelta(days=DAYS) <= e.ts < END


def test_each_group_in_time_order(events: list[Event]) -> None:
    last: dict[str, datetime] = {}
    for e in events:
        assert e.ts >= last.get(e.group.external_id, e.ts)
        last[e.group.external_id] = e.ts


def test_platform_mix_and_both_languages(events: list[Event]) -> None:
    platforms = {e.group.platform for e in events}
    assert platforms <= {"wechat", "telegram", "discord"} and "wechat" in platforms
    texts = [e.payload.get("text", "") for e in human_messages(events)]
    zh = sum(1 for t in texts if CJK.search(t))
    assert zh > 0.2 * len(texts) and len(texts) - zh > 0.05 * len(texts)


def test_lurkers_and_heavy_tail(events: list[Event]) -> None:
    members = {(e.group.external_id, e.target) for e in events if e.kind == Kind.JOIN}
    counts = Counter((e.group.external_id, e.actor) for e in human_messages(events))
    assert 1 - len(counts) / len(members) > 0.5  # most members never speak
    c = sorted(counts.values(), reverse=True)
    assert sum(c[: len(c) // 10]) > 0.4 * sum(c)  # the top 10% write > 40%
    assert c[0] > 20 * statistics.median(c)


def test_diurnal_and_weekly_rhythm(events: list[Event]) -> None:
    msgs = human_messages(events)
    hours = Counter(local(e).hour for e in msgs)
    assert max(hours, key=hours.__getitem__) in (20, 21, 22)
    assert hours[12] > hours[10] and hours[12] > hours[15]  # the lunch peak
    assert sum(hours[h] for h in (3, 4, 5)) < 0.02 * len(msgs)
    ratios = []
    for gid in {e.group.external_id for e in msgs}:
        days = Counter(local(e).weekday() >= 5 for e in msgs if e.group.external_id == gid)
        ratios.append((days[True] / 2) / max(days[False] / 5, 1))
    assert max(ratios) > 1.1 or min(ratios) < 0.9  # groups differ between weekdays/weekends


def test_joins_carry_methods_channels_and_invite_chains(events: list[Event]) -> None:
    present: dict[str, set[str]] = defaultdict(set)
    invited_by: dict[tuple[str, str], str] = {}
    codes = set(CHANNELS_ZH) | set(CHANNELS_EN)
    methods: Counter[str] = Counter()
    for e in events:
        gid = e.group.external_id
        if e.kind == Kind.JOIN:
            assert e.target is not None
            method = e.payload["method"]
            methods[method] += 1
            assert method in set(JoinMethod)
            if method == "channel_code":
                assert e.payload["channel_code"] in codes and e.actor == e.target
            if method == "invited_by":
                assert e.actor is not None and e.actor.external_id in present[gid]
                invited_by[(gid, e.target.external_id)] = e.actor.external_id
            present[gid].add(e.target.external_id)
        elif e.kind in (Kind.LEAVE, Kind.KICK):
            assert e.target is not None
            present[gid].discard(e.target.external_id)
    assert {"invited_by", "channel_code", "unknown"} <= set(methods)
    chains = [k for k, inviter in invited_by.items() if (k[0], inviter) in invited_by]
    assert chains  # someone invited by a member who was invited themself


def test_exits_follow_joins_and_messages_come_from_members(events: list[Event]) -> None:
    present: dict[str, set[str]] = defaultdict(set)
    exits = 0
    for e in events:
        gid = e.group.external_id
        if e.kind == Kind.JOIN:
            present[gid].add(e.target.external_id)  # type: ignore[union-attr]
        elif e.kind in (Kind.LEAVE, Kind.KICK):
            assert e.target is not None and e.target.external_id in present[gid]
            present[gid].remove(e.target.external_id)
            exits += 1
            if e.kind == Kind.LEAVE:
                assert e.actor == e.target
        elif e.kind == Kind.MESSAGE:
            assert e.actor is not None and e.actor.external_id in present[gid]
    assert exits > 0


def test_identity_in_several_groups(events: list[Event]) -> None:
    groups_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in events:
        if e.kind == Kind.JOIN and e.target is not None:
            groups_of[(e.target.platform, e.target.external_id)].add(e.group.external_id)
    assert any(len(gs) > 1 for gs in groups_of.values())


def test_message_variety(events: list[Event]) -> None:
    msgs = human_messages(events)
    types = Counter(e.payload.get("type") for e in msgs)
    assert {"text", "image", "sticker"} <= set(types)
    assert any(e.payload.get("urls") for e in msgs)
    assert any(e.payload.get("mentions") for e in msgs)
    texts = [e.payload.get("text", "") for e in msgs]
    assert sum(1 for t in texts if QUESTION.search(t)) > 0.05 * len(msgs)
    assert any(w in t for t in texts for w in ("打卡", "签到", "check-in", "Day "))
    ids = {e.source_event_id: e for e in msgs}
    replies = [e for e in msgs if "reply_to" in e.payload]
    assert len(replies) > 0.05 * len(msgs)
    for e in replies:
        target = ids.get(e.payload["reply_to"])
        assert target is not None and target.group == e.group and target.ts <= e.ts


def test_spam_accounts_get_kicked(events: list[Event]) -> None:
    joined: dict[tuple[str, str], datetime] = {}
    posted: Counter[tuple[str, str]] = Counter()
    spam_kicks = 0
    for e in events:
        if e.kind == Kind.JOIN and e.target is not None:
            joined[(e.group.external_id, e.target.external_id)] = e.ts
        elif e.kind == Kind.MESSAGE and e.actor is not None:
            posted[(e.group.external_id, e.actor.external_id)] += 1
        elif e.kind == Kind.KICK and e.payload.get("reason") in ("广告", "spam"):
            key = (e.group.external_id, e.target.external_id)  # type: ignore[union-attr]
            assert e.ts - joined[key] < timedelta(hours=3)  # a fresh account
            assert posted[key] >= 1
            spam_kicks += 1
    assert spam_kicks >= 3


def test_bots_are_marked(events: list[Event]) -> None:
    bot_msgs = [e for e in events if e.kind == Kind.MESSAGE and e.actor and e.actor.is_bot]
    assert bot_msgs
    assert any(e.payload.get("mentions") for e in bot_msgs)  # welcomes


def test_dying_groups_fade_and_campaigns_spike(plan: DemoPlan, events: list[Event]) -> None:
    by_group: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_group[e.group.external_id].append(e)
    kinds = {g.life.kind for g in plan.groups}
    assert "dying" in kinds and any(g.life.campaign for g in plan.groups)
    for g in plan.groups:
        evs = by_group[g.ref.external_id]
        if g.life.decay_from is not None:
            fade = plan.shared.grid.origin + g.life.decay_from * 86400
            msgs = [e.ts.timestamp() for e in evs if e.kind == Kind.MESSAGE]
            before = sum(1 for t in msgs if fade - 14 * 86400 <= t < fade)
            late = sum(1 for t in msgs if t >= END.timestamp() - 14 * 86400)
            assert late < 0.5 * before
        if g.life.campaign:
            c0, length = g.life.campaign
            start = plan.shared.grid.origin + c0 * 86400
            joins = [e.ts.timestamp() for e in evs if e.kind == Kind.JOIN]
            inside = sum(1 for t in joins if start <= t < start + length * 86400)
            founding = sum(1 for t in joins if t < g.life.created + 3 * 86400)
            other_days = (END.timestamp() - g.life.created) / 86400 - 3 - length
            # joins per day in the campaign vs. outside it (after the founding days)
            assert inside / length > 3 * (len(joins) - inside - founding) / other_days


def test_event_budget_is_respected() -> None:
    plan = generate(6, 800, 60, seed=2, events=25_000)
    assert abs(plan.total - 25_000) <= 2_500
    assert sum(1 for _ in plan.events()) == plan.total
    with pytest.raises(UserError):
        generate(6, 800, 60, events=100)


def test_big_groups_stream_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A huge budget on few groups is generated piecewise with the same guarantees."""
    monkeypatch.setattr(stream, "CHUNK_EVENTS", 2_000)
    plan = generate(1, 60, 40, seed=4, events=12_000)
    events = list(plan.events())
    assert (
        len(events) == plan.total and len(stream.chunk_bounds(plan.shared.grid, plan.groups[0])) > 3
    )
    assert [int(e.source_event_id.rsplit(":", 1)[1]) for e in events] == list(
        range(1, len(events) + 1)
    )
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(events))
    present: set[str] = set()
    for e in events:
        if e.kind == Kind.JOIN and e.target:
            present.add(e.target.external_id)
        elif e.kind in (Kind.LEAVE, Kind.KICK) and e.target:
            present.remove(e.target.external_id)
        elif e.kind == Kind.MESSAGE and e.actor:
            assert e.actor.external_id in present


def test_default_size_and_bad_arguments() -> None:
    plan = generate(2, 400, 30)
    assert 0.5 * 400 * 30 * 0.13 < plan.total < 2 * 400 * 30 * 0.14
    with pytest.raises(UserError):
        generate(10, 5, 30)
    with pytest.raises(UserError):
        generate(1, 10, 30, end=datetime(2025, 1, 1))
