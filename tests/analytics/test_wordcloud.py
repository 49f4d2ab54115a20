"""The word cloud SVG: valid, deterministic, escaped, no overlapping words."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from qunyun.analytics.wordcloud import (
    FONT_FAMILY,
    Placed,
    layout,
    render_svg,
    svg_from_layout,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"
WORDS = [
    ("公告", 120.0),
    ("python", 95.0),
    ("积分", 80.0),
    ("asyncio", 64.0),
    ("基金定投", 50.0),
    ("FastAPI", 41.0),
    ("爬山", 33.0),
    ("c++", 20.0),
    ("强化学习", 12.0),
    ("mouse", 5.0),
] + [(f"词{i}x{i}", 1.0 + i % 4) for i in range(40)]


def test_text_width_estimates() -> None:
    assert text_width("中文", 10) == pytest.approx(20.0)
    assert text_width("ab", 10) == pytest.approx(11.0)
    assert text_width("il", 10) < text_width("mw", 10)
    assert text_width("ab", 10, bold=True) > text_width("ab", 10)


@pytest.fixture(scope="module")
def placed() -> list[Placed]:
    return layout(WORDS, 600, 360)


def test_no_overlaps_and_inside_canvas(placed: list[Placed]) -> None:
    assert len(placed) == len(WORDS)
    for p in placed:
        assert p.x >= 0 and p.x + p.width <= 600
        assert p.y >= 0 and p.y + p.height <= 360
    for a, b in itertools.combinations(placed, 2):
        assert not a.overlaps(b, gap=2.9), (a.term, b.term)


def test_largest_first_centred_and_sized_by_weight(placed: list[Placed]) -> None:
    assert [p.term for p in placed[:3]] == ["公告", "python", "积分"]
    first = placed[0]
    assert abs(first.x + first.width / 2 - 300) < 1 and abs(first.y + first.height / 2 - 180) < 1
    sizes = [p.size for p in placed if p.term in ("公告", "python", "积分", "mouse")]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 2 * sizes[-1]


def test_input_cleaning() -> None:
    placed = layout([("b", 0.0), ("a", -1.0), ("", 5.0), ("x\x00y", 2.0), ("xy", 1.0)], 300, 200)
    assert [(p.term, p.weight) for p in placed] == [("xy", 2.0)]
    assert layout([], 300, 200) == []
    assert len(layout(WORDS, 600, 360, max_words=5)) == 5


def test_too_many_words_are_left_out_not_overlapped() -> None:
    words = [(f"longword{i:03d}", 10.0) for i in range(200)]
    placed = layout(words, 200, 100, min_size=12, max_size=12)
    assert 0 < len(placed) < 200
    assert not any(a.overlaps(b) for a, b in itertools.combinations(placed, 2))


def test_svg_is_valid_xml_with_cjk_fonts_and_one_text_per_word(placed: list[Placed]) -> None:
    svg = render_svg(WORDS, 600, 360, title="本周热词 & top terms")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 600 360"
    assert root.get("font-family") == FONT_FAMILY
    assert "Noto Sans CJK SC" in FONT_FAMILY and FONT_FAMILY.endswith("sans-serif")
    assert root.get("aria-label") == "本周热词 & top terms"
    texts = root.findall(f"{SVG}text")
    assert [t.text for t in texts] == [p.term for p in placed]
    first = texts[0]
    assert first.get("textLength") == f"{placed[0].width:.1f}"
    assert first.get("lengthAdjust") == "spacingAndGlyphs"
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_deterministic() -> None:
    words = WORDS[:20]
    assert render_svg(words, 400, 240) == render_svg(list(reversed(words)), 400, 240)


def test_escapes_markup_in_terms() -> None:
    svg = render_svg([("<b>&amp;</b>", 3.0), ('"q"', 2.0)], 400, 200, background=None)
    assert "<b>" not in svg and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in svg
    root = ET.fromstring(svg)
    assert [t.text for t in root.findall(f"{SVG}text")] == ["<b>&amp;</b>", '"q"']
    assert root.find(f"{SVG}rect") is None


def test_svg_from_layout_uses_baseline_below_box_top() -> None:
    placed = layout([("爬山", 1.0)], 300, 200)
    text = ET.fromstring(svg_from_layout(placed, 300, 200)).find(f"{SVG}text")
    assert text is not None
    assert float(text.get("y", "0")) == pytest.approx(placed[0].baseline, abs=0.06)
    assert placed[0].y < placed[0].baseline < placed[0].y + placed[0].height
