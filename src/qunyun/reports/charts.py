"""Small inline-SVG charts for the self-contained report (no JavaScript, no assets).

Each function returns an ``<svg>`` string that fills the width of its box: text and
heights are in pixels and horizontal positions in percent, so the same chart reads
the same on a 390-px phone, a laptop and an A4 page — labels never shrink with the
box, only the spacing between them does. Every label passes through :func:`esc`.
"""

from __future__ import annotations

import math
import unicodedata
from html import escape
from typing import Any

ACCENT = "#2f6fed"
ACCENT_2 = "#e8833a"
GRID = "#e6e8ee"
TEXT = "#5b6270"
FONT = 12  # px: axis labels
HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"'


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def line(points: list[tuple[str, float]], *, height: int = 220) -> str:
    """A line with its area shaded: members over time."""
    if not points:
        return ""
    pad_b, pad_t = 24, 16
    vals = [v for _, v in points]
    lo, hi = _nice_range(min(vals), max(vals))
    h = height - pad_b - pad_t
    n = max(1, len(points) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:  # x in 0..1000 of the plot's viewBox
        return 1000 * i / n, pad_t + h * (1 - (v - lo) / (hi - lo))

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(points)))
    base = pad_t + h
    plot = (
        f'<svg x="0" y="0" width="100%" height="{height}" viewBox="0 0 1000 {height}" '
        'preserveAspectRatio="none">'
        f'<polygon points="0,{base} {path} 1000,{base}" fill="{ACCENT}" fill-opacity="0.12"/>'
        f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2" '
        'vector-effect="non-scaling-stroke" stroke-linejoin="round"/></svg>'
    )
    parts = [*_grid(pad_t, h), plot, *_ylabels(lo, hi, pad_t, h)]
    parts += _xlabels([d for d, _ in points], height, centred=False)
    return _svg(height, parts, "line")


def bars(
    labels: list[str],
    series: list[tuple[str, list[float], str]],
    *,
    height: int = 200,
) -> str:
    """Grouped vertical bars per label (e.g. joins and leaves per day)."""
    if not labels:
        return ""
    pad_b, pad_t = 24, 16
    _, hi = _nice_range(0, max([max(vals, default=0) for _, vals, _ in series] + [4]))
    h = height - pad_b - pad_t
    slot = 100 / len(labels)
    bw = slot * 0.8 / len(series)
    parts = _grid(pad_t, h)
    for k, (name, vals, colour) in enumerate(series):
        for i, v in enumerate(vals):
            bh = h * v / hi
            if bh <= 0:
                continue
            x = slot * i + slot * 0.1 + bw * k
            parts.append(
                f'<rect x="{x:.3f}%" y="{pad_t + h - bh:.1f}" width="{bw:.3f}%" '
                f'height="{bh:.1f}" fill="{colour}"><title>{esc(labels[i])} {esc(name)}: '
                f"{_short(v)}</title></rect>"
            )
    parts += _ylabels(0, hi, pad_t, h)
    parts += _xlabels(labels, height, centred=True)
    return _svg(height, parts, "bars")


def hbars(rows: list[tuple[str, float, str]]) -> str:
    """Horizontal bars, each under its label with its value at the right (joins by source,
    funnel): the label has the full width, so long names fit a phone."""
    if not rows:
        return ""
    row_h = 40
    height = row_h * len(rows) + 2
    hi = max([v for _, v, _ in rows] + [1])
    parts = []
    for i, (label, v, text) in enumerate(rows):
        y = i * row_h
        pct = max(100 * v / hi, 0.4)
        parts.append(
            f'<text x="0" y="{y + 15}" fill="#333" font-size="13">{esc(_clip(label, 40))}</text>'
            f'<text x="100%" y="{y + 15}" text-anchor="end" fill="#222" font-size="12.5" '
            f'font-weight="600">{esc(text)}</text>'
            f'<rect x="0" y="{y + 21}" width="100%" height="12" rx="3" fill="#eef1f6"/>'
            f'<rect x="0" y="{y + 21}" width="{pct:.2f}%" height="12" rx="3" fill="{ACCENT}">'
            f"<title>{esc(label)}: {esc(text)}</title></rect>"
        )
    return _svg(height, parts, "hbars")


def heatmap(grid: list[list[int]], days: list[str]) -> str:
    """7 × 24 cells, Monday first, colour by share of the busiest cell."""
    cell_h, pad_t, label = 24, 20, 9.0  # label: the day names' column, in percent
    cell_w = (100 - label) / 24
    height = pad_t + 7 * cell_h + 2
    hi = max([max(r) for r in grid] + [1])
    parts = []
    for hr in range(0, 24, 3):
        parts.append(
            f'<text x="{label + hr * cell_w:.3f}%" y="13" fill="{TEXT}" '
            f'font-size="{FONT - 1}">{hr}:00</text>'
        )
    for d, row in enumerate(grid):
        y = pad_t + d * cell_h
        parts.append(
            f'<text x="{label:.1f}%" dx="-6" y="{y + 16}" text-anchor="end" fill="{TEXT}" '
            f'font-size="{FONT}">{esc(days[d])}</text>'
        )
        for hr, v in enumerate(row):
            alpha = 0.06 + 0.94 * (v / hi)
            parts.append(
                f'<rect x="{label + hr * cell_w:.3f}%" y="{y}" width="{cell_w * 0.86:.3f}%" '
                f'height="{cell_h - 3}" rx="3" fill="{ACCENT}" fill-opacity="{alpha:.2f}">'
                f"<title>{esc(days[d])} {hr}:00 — {v}</title></rect>"
            )
    return _svg(height, parts, "heatmap")


def _grid(pad_t: int, h: float) -> list[str]:
    out = []
    for k in range(5):
        y = pad_t + h * (1 - k / 4)
        out.append(f'<line x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
    return out


def _nice_range(lo: float, hi: float) -> tuple[float, float]:
    """``lo``..``hi`` widened so its four gridline steps are round (1, 2, 2.5, 3, 4, 5,
    6 or 8 × 10ⁿ): 0..13 draws 0, 4, 8, 12, 16 and 20..24 draws 20, 21, 22, 23, 24."""
    lo, hi = float(lo), float(hi)
    if hi <= lo:
        hi = lo + 4
    mag = 10 ** math.floor(math.log10((hi - lo) / 4))
    for k in range(3):  # the floor of lo can push the top past 4 steps: try larger ones
        for m in (1, 2, 2.5, 3, 4, 5, 6, 8):
            step = m * mag * 10**k
            base = math.floor(lo / step + 1e-9) * step
            if base + 4 * step >= hi - 1e-9:
                return base, base + 4 * step
    return lo, hi


def _ylabels(lo: float, hi: float, pad_t: int, h: float) -> list[str]:
    """Each gridline's value just above it at the left, haloed to read over the data."""
    out = []
    small = hi - lo < 8
    for k in range(1, 5):
        v = lo + (hi - lo) * k / 4
        y = pad_t + h * (1 - k / 4)
        out.append(
            f'<text x="2" y="{y - 3:.1f}" fill="{TEXT}" font-size="{FONT - 1}" {HALO}>'
            f"{_short(v) if not small or v == round(v) else f'{v:.2f}'.rstrip('0')}</text>"
        )
    return out


def _xlabels(labels: list[str], height: int, *, centred: bool) -> list[str]:
    """About five dates along the bottom; the first starts at the left edge and the last
    ends at the right one, so none is cut off."""
    if not labels:
        return []
    n = len(labels)
    picks = sorted({round(k * (n - 1) / 4) for k in range(5)}) if n > 1 else [0]
    out = []
    for j, i in enumerate(picks):
        if centred:
            x = 100 * (i + 0.5) / n
        else:
            x = 100 * i / max(1, n - 1)
        anchor = "start" if j == 0 else ("end" if j == len(picks) - 1 else "middle")
        if len(picks) == 1:
            anchor = "middle" if centred else "start"
        out.append(
            f'<text x="{x:.2f}%" y="{height - 6}" text-anchor="{anchor}" fill="{TEXT}" '
            f'font-size="{FONT - 1}">{esc(labels[i][5:])}</text>'
        )
    return out


def _clip(text: str, width: int) -> str:
    """``text`` cut to about ``width`` Latin letters (a CJK character counts two)."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > width:
            return text[:i] + "…"
    return text


def _short(v: float) -> str:
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


def _svg(height: int, parts: list[Any], kind: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qc qc-{kind}" width="100%" '
        f'height="{height}" font-family="inherit" role="img" '
        f'style="display:block;overflow:visible">{"".join(parts)}</svg>'
    )
