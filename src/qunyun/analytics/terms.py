"""How often terms are talked about in a period, and which are rising or falling.

A *document* is one message. A term counts once per message however often the
message repeats it, so one member pasting "抢票抢票抢票" ten times makes one
mention, not thirty. Optionally the distinct speakers of each term are kept
too: a topic twenty people raise matters more than one a single member keeps
repeating, and reports can show both.

Everything here is pure and independent of the store and of the tokenizer:
callers pass terms (or a ``tokenize`` function) and get counts back.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class TermCounter:
    """Document frequency of terms over the messages of one period."""

    def __init__(self, *, track_speakers: bool = False) -> None:
        self.messages = 0
        self.df: Counter[str] = Counter()
        self._speakers: dict[str, set[str]] | None = {} if track_speakers else None

    def add(self, terms: Iterable[str], speaker: str | None = None) -> None:
        """Count one message with these terms (duplicates count once)."""
        self.messages += 1
        unique = set(terms)
        self.df.update(unique)
        if self._speakers is not None and speaker is not None:
            for term in unique:
                self._speakers.setdefault(term, set()).add(speaker)

    def update(self, other: TermCounter) -> None:
        """Add another period's counts to this one (e.g. days into a week)."""
        self.messages += other.messages
        self.df.update(other.df)
        if self._speakers is not None and other._speakers is not None:
            for term, who in other._speakers.items():
                self._speakers.setdefault(term, set()).update(who)

    def speakers(self) -> Counter[str]:
        """Distinct speakers per term; empty unless created with ``track_speakers``."""
        if self._speakers is None:
            return Counter()
        return Counter({t: len(who) for t, who in self._speakers.items()})


def count_by_period(
    messages: Iterable[tuple[K, str, str | None]],
    tokenize: Callable[[str], list[str]],
    *,
    track_speakers: bool = False,
) -> dict[K, TermCounter]:
    """One :class:`TermCounter` per period from ``(period, text, speaker)`` rows.

    ``period`` is whatever the caller buckets by (a date, an ISO week, a
    ``(group, month)`` pair); the keys come back in first-seen order.
    """
    out: dict[K, TermCounter] = {}
    for period, text, speaker in messages:
        counter = out.get(period)
        if counter is None:
            counter = out[period] = TermCounter(track_speakers=track_speakers)
        counter.add(tokenize(text), speaker)
    return out


def top_terms(counts: Mapping[str, int], n: int = 20) -> list[tuple[str, int]]:
    """The ``n`` most frequent terms, ties broken alphabetically so output is stable."""
    return heapq.nsmallest(n, counts.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True, slots=True)
class Trend:
    """A term's change between two periods; ``score`` is the log rate ratio."""

    term: str
    score: float
    current: int
    previous: int


@dataclass(frozen=True, slots=True)
class Trends:
    rising: list[Trend]
    falling: list[Trend]


def trend_score(
    current: int, previous: int, current_total: int, previous_total: int, prior: float = 2.0
) -> float:
    """``ln((c + α) / N_c) − ln((p + α) / N_p)``: the smoothed log ratio of rates.

    ``c``/``p`` are the messages mentioning the term in each period, ``N_c``/``N_p``
    all messages in each period (at least 1), ``α`` the prior. The prior keeps a
    term going from 0 to 3 mentions from outranking one going from 100 to 300.
    """
    nc = max(current_total, 1)
    np_ = max(previous_total, 1)
    return math.log((current + prior) / nc) - math.log((previous + prior) / np_)


def trends(
    current: Mapping[str, int],
    previous: Mapping[str, int],
    n: int = 10,
    *,
    current_total: int | None = None,
    previous_total: int | None = None,
    min_support: int = 5,
    prior: float = 2.0,
) -> Trends:
    """The ``n`` terms rising most and the ``n`` falling most between two periods.

    Counts are per-message document frequencies (``TermCounter.df``); the totals
    are the number of messages in each period (``TermCounter.messages``), and
    default to the sum of the counts when not given. A rising term needs
    ``min_support`` mentions now, a falling one ``min_support`` before, so a term
    seen twice is never news. Rising terms sort by score descending, then by
    current count descending, then alphabetically; falling terms mirror that.
    """
    nc = sum(current.values()) if current_total is None else current_total
    np_ = sum(previous.values()) if previous_total is None else previous_total
    rising: list[Trend] = []
    falling: list[Trend] = []
    for term in current.keys() | previous.keys():
        c, p = current.get(term, 0), previous.get(term, 0)
        score = trend_score(c, p, nc, np_, prior)
        if score > 0 and c >= min_support:
            rising.append(Trend(term, score, c, p))
        elif score < 0 and p >= min_support:
            falling.append(Trend(term, score, c, p))
    return Trends(
        rising=heapq.nsmallest(n, rising, key=lambda t: (-t.score, -t.current, t.term)),
        falling=heapq.nsmallest(n, falling, key=lambda t: (t.score, -t.previous, t.term)),
    )
