"""The metrics, as pure functions of :class:`~qunyun.analytics.data.ScopeData`.

Every definition here is stated in words in docs/metrics.md; the two must agree.
Days are local day numbers of each group's zone; bots never count as members or
as activity.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from qunyun.analytics.data import Member, Said, ScopeData
from qunyun.analytics.scope import day_date

RETENTION_WEEKS = (1, 2, 4, 8, 12)
REGULAR_DAYS = 8  # active days within the first 30 days that make a "regular"


def is_member_on(m: Member, day: int) -> bool:
    return m.entry_day <= day and (m.exit_day is None or m.exit_day > day)


def _active(data: ScopeData, m: Member, first: int, last: int) -> bool:
    return data.days_of(m).active_between(first, last) > 0


# --------------------------------------------------------------------------- growth


def growth(data: ScopeData) -> dict[str, Any]:
    s = data.scope
    sums = day_sums(data)
    series: list[dict[str, Any]] = []
    count = start = data.members_start
    for day in range(s.first_day, s.last_day + 1):
        count += data.entries.get(day, 0) - data.exits.get(day, 0)
        totals = sums.get(day, _ZERO)
        series.append(
            {
                "date": day_date(day).isoformat(),
                "members": count,
                "joins": totals[4],
                "leaves": totals[5],
            }
        )
    joins = sum(p["joins"] for p in series)
    leaves = sum(p["leaves"] for p in series)
    return {
        "members_start": start,
        "members_end": count,
        "net_growth": count - start,
        "joins": joins,
        "leaves": leaves,
        "by_day": series,
        "by_source": joins_by_source(data),
    }


_ZERO = (0, 0, 0, 0, 0, 0)


def day_sums(data: ScopeData) -> dict[int, list[int]]:
    """Local day -> [messages, effective, questions, bot messages, joins, exits]."""
    out: dict[int, list[int]] = {}
    for hour, v in data.hourly.items():
        row = out.get(hour // 24)
        if row is None:
            out[hour // 24] = list(v)
        else:
            for i in range(6):
                row[i] += v[i]
    return out


def joins_by_source(data: ScopeData) -> list[dict[str, Any]]:
    """Joins in range by (method, source), with how many of them stayed and stayed active."""
    cohort: dict[tuple[str, str], list[Member]] = defaultdict(list)
    for m in data.newcomers:
        cohort[(m.join_method, m.channel)].append(m)
    totals: Counter[tuple[str, str]] = Counter()
    for (_day, method, source, _g), n in data.joins.items():
        totals[(method, source)] += n
    names = data.inviters
    out = []
    for key, n in totals.most_common():
        ms = cohort.get(key, [])
        inviter = None
        if key[1].startswith("identity:"):
            inviter = names.get(int(key[1].split(":", 1)[1]))
        w4 = [m for m in ms if m.entry_day + 28 <= data.data_end_day]
        out.append(
            {
                "method": key[0],
                "source": key[1],
                "inviter": inviter,
                "joins": n,
                "share": round(n / max(1, sum(totals.values())), 4),
                "retained_4w": _share(sum(is_member_on(m, m.entry_day + 28) for m in w4), len(w4)),
                "active_4w": _share(
                    sum(_active(data, m, m.entry_day + 28, m.entry_day + 34) for m in w4), len(w4)
                ),
            }
        )
    return out


# --------------------------------------------------------------------------- activity


def activity(data: ScopeData) -> dict[str, Any]:
    s = data.scope
    sums = day_sums(data)
    by_day: list[dict[str, Any]] = []
    for day in range(s.first_day, s.last_day + 1):
        row = sums.get(day, _ZERO)
        by_day.append(
            {
                "date": day_date(day).isoformat(),
                "messages": row[0],
                "effective": row[1],
                "questions": row[2],
                "bot_messages": row[3],
                "active_members": data.active_by_day.get(day, 0),
            }
        )
    members_end, spoken = data.members_end, data.members_end_spoken
    return {
        "messages": sum(d["messages"] for d in by_day),
        "effective_messages": sum(d["effective"] for d in by_day),
        "questions": sum(d["questions"] for d in by_day),
        "active_members": data.active_range,
        "dau": round(statistics.fmean(d["active_members"] for d in by_day), 2) if by_day else 0,
        "wau": data.active_week,
        "mau": data.active_month,
        "active_share": _share(data.active_month, members_end),
        "lurker_share": _share(members_end - spoken, members_end),
        "by_day": by_day,
        "heatmap": heatmap(data),
    }


def heatmap(data: ScopeData) -> list[list[int]]:
    """Effective messages by weekday (rows, Monday first) × local hour (columns)."""
    grid = [[0] * 24 for _ in range(7)]
    lo, hi = data.scope.first_day * 24, data.scope.last_day * 24 + 24
    for hour, v in data.hourly.items():
        if lo <= hour < hi:
            day = hour // 24
            grid[(day + 3) % 7][hour % 24] += v[1]  # 1970-01-01 was a Thursday
    return grid


def top_contributors(data: ScopeData, n: int = 10) -> list[dict[str, Any]]:
    """Top persons by effective messages in the range (then messages): counted by the
    store (data._contributors) over the scope's human members."""
    return [dict(r) for r in data.contributors[:n]]


# --------------------------------------------------------------------------- newcomers


def newcomers(data: ScopeData, first_message: dict[tuple[int, int], Any]) -> dict[str, Any]:
    """Members who joined in range: who spoke within 7 days, and how soon they spoke."""
    joined = data.newcomers
    spoke7 = 0
    hours: list[float] = []
    for m in joined:
        first = first_message.get((m.group_id, m.identity_id))
        if first is None or m.joined_at is None:
            continue
        delta = (first - m.joined_at).total_seconds() / 3600
        if delta < 0:
            continue
        hours.append(delta)
        if delta < 24 * 7:
            spoke7 += 1
    return {
        "joined": len(joined),
        "spoke_within_7d": spoke7,
        "spoke_within_7d_share": _share(spoke7, len(joined)),
        "median_hours_to_first_message": round(statistics.median(hours), 2) if hours else None,
    }


def funnel(data: ScopeData) -> dict[str, Any]:
    """joined → spoke → spoke again in a later week → regular (≥ 8 active days in 30)."""
    joined = data.newcomers
    spoke = again = regular = 0
    for m in joined:
        got = data.days_of(m)
        days = got.spoke_from(m.entry_day)
        if not days:
            continue
        spoke += 1
        if days[-1] // 7 > days[0] // 7:  # weeks counted from 1970-01-01 (Thu)
            again += 1
        if got.active_between(m.entry_day, m.entry_day + 29) >= REGULAR_DAYS:
            regular += 1
    return {
        "joined": len(joined),
        "spoke": spoke,
        "spoke_again_later_week": again,
        "regular": regular,
        "regular_days": REGULAR_DAYS,
    }


def retention(data: ScopeData) -> list[dict[str, Any]]:
    """Cohorts by local join week (Monday first): still in / still active after k weeks."""
    cohorts: dict[int, list[Member]] = defaultdict(list)
    for m in data.newcomers:
        monday = m.entry_day - (m.entry_day + 3) % 7
        cohorts[monday].append(m)
    out = []
    for monday in sorted(cohorts):
        ms = cohorts[monday]
        weeks: dict[str, Any] = {}
        for k in RETENTION_WEEKS:
            start = monday + 7 * k
            if start + 6 > data.data_end_day:
                weeks[str(k)] = None  # not yet observable
                continue
            weeks[str(k)] = {
                "member": _share(sum(is_member_on(m, start + 6) for m in ms), len(ms)),
                "active": _share(sum(_active(data, m, start, start + 6) for m in ms), len(ms)),
            }
        out.append({"week": day_date(monday).isoformat(), "joined": len(ms), "weeks": weeks})
    return out


def lifecycle(data: ScopeData) -> dict[str, int]:
    """Stage of every human ever seen, as of the last day of the range: counted by the
    store (data._membership_counts)."""
    return {k: data.stages.get(k, 0) for k in ("new", "active", "silent", "churned")}


# --------------------------------------------------------------------------- response


def first_response(said: Iterable[Said], until_day_end: Any) -> dict[str, Any]:
    """CHAOSS time to first response: a question, then the first message by another human.

    Questions asked before ``until_day_end`` count; answers may come later (the
    caller reads a week past the range). Unanswered questions are counted apart.
    """
    minutes: list[float] = []
    questions = 0
    pending: dict[int, list[Said]] = defaultdict(list)  # group -> open questions
    for msg in said:
        open_qs = pending[msg.group_id]
        if open_qs:
            still = []
            for q in open_qs:
                if msg.actor_id != q.actor_id:
                    minutes.append((msg.ts - q.ts).total_seconds() / 60)
                else:
                    still.append(q)
            pending[msg.group_id] = still
        if msg.question and msg.ts < until_day_end:
            questions += 1
            pending[msg.group_id].append(msg)
    answered = len(minutes)
    return {
        "questions": questions,
        "answered": answered,
        "answered_share": _share(answered, questions),
        "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
        "p90_minutes": round(_quantile(minutes, 0.9), 1) if minutes else None,
    }


def _quantile(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, int(q * len(ys)))]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
