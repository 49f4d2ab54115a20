"""Per-message term counts, top terms and trend scores, against hand-computed values."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from qunyun.analytics.terms import TermCounter, count_by_period, top_terms, trend_score, trends


def test_each_term_counts_once_per_message_and_speakers_are_distinct() -> None:
    rows = [
        ("d1", "python python python 哈哈", "u1"),
        ("d1", "python asyncio", "u2"),
        ("d1", "asyncio asyncio", "u2"),
        ("d2", "爬山", "u3"),
        ("d1", "", None),
    ]
    counts = count_by_period(rows, str.split, track_speakers=True)
    assert list(counts) == ["d1", "d2"]
    d1 = counts["d1"]
    assert d1.messages == 4
    assert d1.df == Counter({"python": 2, "asyncio": 2, "哈哈": 1})
    assert d1.speakers() == Counter({"python": 2, "asyncio": 1, "哈哈": 1})
    assert counts["d2"].df == Counter({"爬山": 1})


def test_speakers_are_off_by_default_and_update_merges() -> None:
    a, b = TermCounter(track_speakers=True), TermCounter(track_speakers=True)
    a.add(["python"], "u1")
    b.add(["python", "rust"], "u1")
    b.add(["rust"], "u2")
    a.update(b)
    assert (a.messages, a.df) == (3, Counter({"python": 2, "rust": 2}))
    assert a.speakers() == Counter({"python": 1, "rust": 2})
    plain = TermCounter()
    plain.add(["x1"], "u1")
    assert plain.speakers() == Counter()


def test_top_terms_breaks_ties_alphabetically() -> None:
    counts = Counter({"zeta": 3, "alpha": 3, "爬山": 5, "beta": 1, "gamma": 3})
    assert top_terms(counts, 3) == [("爬山", 5), ("alpha", 3), ("gamma", 3)]
    assert top_terms(counts, 0) == []
    assert len(top_terms(counts, 99)) == 5


def test_trend_score_formula() -> None:
    # ln((20 + 2) / 100) - ln((4 + 2) / 200) = ln(44 / 6)
    assert trend_score(20, 4, 100, 200) == pytest.approx(math.log(44 / 6))
    assert trend_score(0, 0, 100, 100) == pytest.approx(0.0)
    assert trend_score(3, 0, 0, 0) == pytest.approx(math.log(5 / 2))  # empty period: N = 1


def test_rising_and_falling_on_a_hand_built_example() -> None:
    # 100 messages now, 200 before; score = ln(2 (c + 2) / (p + 2))
    current = Counter({"asyncio": 20, "python": 30, "django": 5, "rare": 3, "pandas": 10})
    previous = Counter({"asyncio": 4, "python": 60, "django": 30, "pandas": 20, "old": 6})
    result = trends(current, previous, 10, current_total=100, previous_total=200)
    # asyncio ln(44/6)=1.99, pandas ln(24/22)=0.087, python ln(64/62)=0.032;
    # rare would score ln(10/2)=1.61 but has 3 < 5 mentions
    assert [t.term for t in result.rising] == ["asyncio", "pandas", "python"]
    # django ln(14/32)=-0.83, old ln(4/8)=-0.69
    assert [t.term for t in result.falling] == ["django", "old"]
    top = result.rising[0]
    assert (top.current, top.previous) == (20, 4)
    assert top.score == pytest.approx(math.log(44 / 6))
    assert trends(current, previous, 1, current_total=100, previous_total=200).rising == [top]


def test_trend_ties_and_default_totals() -> None:
    current = Counter({"zeta": 6, "alpha": 6, "same": 10})
    previous = Counter({"same": 10, "gone": 6})
    result = trends(current, previous, 5)  # totals: 22 now, 16 before
    assert [t.term for t in result.rising] == ["alpha", "zeta"]
    assert [t.term for t in result.falling] == ["gone", "same"]
    assert trends(current, previous, 5, min_support=7).rising == []
