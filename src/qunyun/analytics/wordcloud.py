"""A word cloud as a self-contained SVG string, for HTML reports and their PDFs.

Reports are single HTML files printed to PDF by Chromium, offline, so the cloud
is plain SVG text: no scripts, fonts, images or network. Words are laid out on
an Archimedean spiral from the centre, largest first, each at the first spot
where its box touches no other box; the result depends only on the input, so
the same data always draws the same picture.

Boxes come from estimated text widths (CJK ≈ 1 em, Latin by letter shape).
Each ``<text>`` carries ``textLength`` with ``lengthAdjust="spacingAndGlyphs"``
so the browser stretches or squeezes the glyphs to exactly the estimated
width: whatever font a reader's machine substitutes, words cannot spill into
each other. The font list names common CJK fonts first so Chinese renders on
Linux, macOS and Windows alike.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

FONT_FAMILY = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
    "'WenQuanYi Micro Hei', sans-serif"
)
#: Calm, distinct colours readable on white, in the order the largest words get them.
PALETTE = (
    "#2b6cb0",
    "#c05621",
    "#2f855a",
    "#9b2c2c",
    "#6b46c1",
    "#b7791f",
    "#2c7a7b",
    "#b83280",
    "#4a5568",
)
ASCENT = 0.92  # box top above the baseline, in em (CJK ideographs reach ~0.88)
DESCENT = 0.24  # box bottom below the baseline, in em (g, p, y)
_BOLD_SIZE = 0.55  # words above this fraction of the largest size are drawn bold
_CELL = 32  # spatial index cell, px
_DOT = 4  # cell of the map of spiral points, px
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_QUOTE = {'"': "&quot;"}

_NARROW = frozenset("ijlI.,:;'|!`")
_SEMI = frozenset('frt()[]{}-_ /\\"')
_WIDE = frozenset("mwMW@%")


def char_width(ch: str) -> float:
    """Advance width of one character in em, for a typical sans-serif face."""
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch in _NARROW:
        return 0.27
    if ch in _SEMI:
        return 0.36
    if ch in _WIDE:
        return 0.85
    if ch.isupper():
        return 0.64
    return 0.55


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated rendered width of ``text`` at ``size`` px."""
    return sum(char_width(c) for c in text) * size * (1.06 if bold else 1.0)


@dataclass(frozen=True, slots=True)
class Placed:
    """One word where it was put: its box (x, y = top left), font size and colour."""

    term: str
    weight: float
    size: float
    x: float
    y: float
    width: float
    height: float
    color: str
    bold: bool

    @property
    def baseline(self) -> float:
        return self.y + ASCENT * self.size

    def overlaps(self, other: Placed, gap: float = 0.0) -> bool:
        return not (
            self.x + self.width + gap <= other.x
            or other.x + other.width + gap <= self.x
            or self.y + self.height + gap <= other.y
            or other.y + other.height + gap <= self.y
        )


def _clean(words: Iterable[tuple[str, float]], max_words: int) -> list[tuple[str, float]]:
    """Positive weights only, one entry per term (the largest), heaviest first."""
    best: dict[str, float] = {}
    for term, weight in words:
        term = _XML_INVALID.sub("", term).strip()
        if term and weight > 0 and weight > best.get(term, 0.0):
            best[term] = float(weight)
    ranked = sorted(best.items(), key=lambda tw: (-tw[1], tw[0]))
    return ranked[:max_words]


def _sizes(
    ranked: list[tuple[str, float]], width: int, height: int, min_size: float, max_size: float
) -> list[float]:
    """Font sizes by square root of weight, shrunk if the words would crowd the canvas."""
    top, low = ranked[0][1], ranked[-1][1]
    span = top - low
    sizes = [
        min_size + (max_size - min_size) * (math.sqrt((w - low) / span) if span else 1.0)
        for _, w in ranked
    ]
    pairs = zip(ranked, sizes, strict=True)
    area = sum(text_width(t, s) * s * (ASCENT + DESCENT) for (t, _), s in pairs)
    fill = area / (width * height)
    if fill > 0.42:
        shrink = math.sqrt(0.42 / fill)
        sizes = [max(min_size, s * shrink) for s in sizes]
    return sizes


class _Grid:
    """Placed boxes bucketed by cell, so a collision test looks at neighbours only."""

    def __init__(
        self, gap: float, spiral: list[tuple[float, float]], width: int, height: int
    ) -> None:
        self.gap = gap
        self.cells: dict[tuple[int, int], list[Placed]] = {}
        self.width, self.height = width, height
        #: 1 for each spiral point inside a placed word's box widened by the gap: a
        #: box centred there touches that word whatever its size, so searches skip
        #: those points in C (``dead.find(0, i)``) instead of testing them in Python
        self.dead = bytearray(len(spiral))
        self._points: dict[tuple[int, int], list[int]] = {}
        for i, (dx, dy) in enumerate(spiral):
            key = (int((width / 2 + dx) // _DOT), int((height / 2 + dy) // _DOT))
            self._points.setdefault(key, []).append(i)
        self._spiral = spiral

    def _keys(self, x: float, y: float, w: float, h: float) -> list[tuple[int, int]]:
        g = self.gap
        x0, x1 = int((x - g) // _CELL), int((x + w + g) // _CELL)
        y0, y1 = int((y - g) // _CELL), int((y + h + g) // _CELL)
        return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]

    def collider(self, x: float, y: float, w: float, h: float) -> Placed | None:
        """A placed box the box at (x, y, w, h) would touch, or None if it is free."""
        for key in self._keys(x, y, w, h):
            for q in self.cells.get(key, ()):
                if _hits(x, y, w, h, q, self.gap):
                    return q
        return None

    def add(self, p: Placed) -> None:
        for key in self._keys(p.x, p.y, p.width, p.height):
            self.cells.setdefault(key, []).append(p)
        g, mx, my = self.gap, self.width / 2, self.height / 2
        left, right = p.x - g, p.x + p.width + g
        top, bottom = p.y - g, p.y + p.height + g
        spiral, dead, points = self._spiral, self.dead, self._points
        for i in range(int(left // _DOT), int(right // _DOT) + 1):
            for j in range(int(top // _DOT), int(bottom // _DOT) + 1):
                for k in points.get((i, j), ()):
                    dx, dy = spiral[k]
                    if left < mx + dx < right and top < my + dy < bottom:
                        dead[k] = 1


def _hits(x: float, y: float, w: float, h: float, q: Placed, gap: float) -> bool:
    return (
        x < q.x + q.width + gap
        and q.x < x + w + gap
        and y < q.y + q.height + gap
        and q.y < y + h + gap
    )


def _spiral(width: int, height: int) -> list[tuple[float, float]]:
    """Offsets from the centre along an Archimedean spiral stretched to the canvas.

    Arms are 5 px apart vertically and points about 4 px apart along an arm, so
    even the smallest word finds a gap; computed once per layout.
    """
    aspect = width / height
    turn = 5.0 / (2 * math.pi)
    limit = math.hypot(width / aspect, height) / 2 + 1
    points: list[tuple[float, float]] = []
    theta = 0.0
    while turn * theta <= limit:
        r = turn * theta
        dx, dy = r * aspect * math.cos(theta), r * math.sin(theta)
        if abs(dx) <= width / 2 and abs(dy) <= height / 2:  # else off canvas for any box
            points.append((dx, dy))
        theta += 4.0 / max(r * aspect, 4.0)
    return points


def layout(
    words: Iterable[tuple[str, float]],
    width: int = 800,
    height: int = 450,
    *,
    max_words: int = 120,
    min_size: float = 12.0,
    max_size: float = 72.0,
    gap: float = 3.0,
) -> list[Placed]:
    """Place words on a spiral; a word with no free spot, even shrunk, is left out.

    The canvas is ``width`` × ``height`` px; boxes never overlap (``gap`` px apart)
    and never leave the canvas.
    """
    ranked = _clean(words, max_words)
    if not ranked:
        return []
    sizes = _sizes(ranked, width, height, min_size, max_size)
    spiral = _spiral(width, height)
    grid = _Grid(gap, spiral, width, height)
    placed: list[Placed] = []
    for (term, weight), size in zip(ranked, sizes, strict=True):
        while True:
            size = round(size, 1)
            bold = size >= max(sizes[0] * _BOLD_SIZE, min_size * 1.5)
            w = round(text_width(term, size, bold), 1)
            h = round((ASCENT + DESCENT) * size, 1)
            spot = _find_spot(w, h, width, height, grid, spiral)
            if spot is not None:
                color = PALETTE[len(placed) % len(PALETTE)]
                word = Placed(term, weight, size, spot[0], spot[1], w, h, color, bold)
                placed.append(word)
                grid.add(word)
                break
            if size <= min_size:
                break
            size = max(min_size, size * 0.8)
    return placed


def _find_spot(
    w: float, h: float, width: int, height: int, grid: _Grid, spiral: list[tuple[float, float]]
) -> tuple[float, float] | None:
    """Top-left corner of the first free spot along the spiral for a w × h box."""
    if w > width or h > height:
        return None
    cx, cy = (width - w) / 2, (height - h) / 2
    gap, dead = grid.gap, grid.dead
    # Consecutive spiral points mostly hit the same word, so the last word hit
    # is tested first, as the range of corners (x, y) at which it is touched.
    x0 = x1 = y0 = y1 = 0.0
    i = -1
    while True:
        i = dead.find(0, i + 1)  # the next point not inside a placed word
        if i < 0:
            return None
        dx, dy = spiral[i]
        x, y = cx + dx, cy + dy
        if x < 0 or y < 0 or x + w > width or y + h > height:
            continue
        if x0 < x < x1 and y0 < y < y1:
            continue
        q = grid.collider(x, y, w, h)
        if q is None:
            return x, y
        x0, x1 = q.x - gap - w, q.x + q.width + gap
        y0, y1 = q.y - gap - h, q.y + q.height + gap


def render_svg(
    words: Iterable[tuple[str, float]],
    width: int = 800,
    height: int = 450,
    *,
    title: str = "word cloud",
    background: str | None = "#ffffff",
    max_words: int = 120,
    min_size: float = 12.0,
    max_size: float = 72.0,
    gap: float = 3.0,
) -> str:
    """The cloud as an ``<svg>`` element string, ready to inline in HTML.

    The sizing arguments are those of :func:`layout`. Terms and the title are
    XML-escaped; ``background=None`` leaves the cloud transparent.
    """
    placed = layout(
        words, width, height, max_words=max_words, min_size=min_size, max_size=max_size, gap=gap
    )
    return svg_from_layout(placed, width, height, title=title, background=background)


def svg_from_layout(
    placed: list[Placed],
    width: int,
    height: int,
    *,
    title: str = "word cloud",
    background: str | None = "#ffffff",
) -> str:
    """Draw an existing layout (tests check the layout and the drawing separately)."""
    label = escape(_XML_INVALID.sub("", title), _QUOTE)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'font-family="{FONT_FAMILY}">',
        f"<title>{label}</title>",
    ]
    if background:
        fill = escape(background, _QUOTE)
        parts.append(f'<rect width="{width}" height="{height}" fill="{fill}"/>')
    for p in placed:
        weight = ' font-weight="bold"' if p.bold else ""
        parts.append(
            f'<text x="{p.x:.1f}" y="{p.baseline:.1f}" font-size="{p.size:.1f}" '
            f'fill="{p.color}"{weight} textLength="{p.width:.1f}" '
            f'lengthAdjust="spacingAndGlyphs">{escape(p.term)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
