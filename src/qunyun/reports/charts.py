"""Small inline-SVG charts for the self-contained report (no JavaScript, no assets).

Each function returns an ``<svg>`` string sized by its viewBox so it scales with the
page and prints crisply; every label passes through :func:`esc`.
"""

from __future__ import annotations

from html import escape
from typing import Any

ACCENT = "#2f6fed"
ACCENT_2 = "#e8833a"
GRID = "#e6e8ee"
TEXT = "#5b6270"


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def line(points: list[tuple[str, float]], *, width: int = 720, height: int = 220) -> str:
    """A line with its area shaded: members over time."""
    if not points:
        return ""
    pad_l, pad_b, pad_t = 48, 24, 12
    vals = [v for _, v in points]
    lo, hi = min(vals), max(vals)
    if hi == lo:
        hi = lo + 1
    w, h = width - pad_l - 8, height - pad_b - pad_t
    n = max(1, len(points) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad_l + w * i / n, pad_t + h * (1 - (v - lo) / (hi - lo))

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(points)))
    x0, _ = xy(0, lo)
    xn, _ = xy(len(points) - 1, lo)
    base = pad_t + h
    parts = [_frame(width, height), *_yticks(lo, hi, pad_l, pad_t, h, width)]
    parts.append(
        f'<polygon points="{x0:.1f},{base} {path} {xn:.1f},{base}" fill="{ACCENT}" '
        'fill-opacity="0.12"/>'
    )
    parts.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    parts += _xlabels([d for d, _ in points], pad_l, w, height)
    return _svg(width, height, parts)


def bars(
    labels: list[str],
    series: list[tuple[str, list[float], str]],
    *,
    width: int = 720,
    height: int = 200,
) -> str:
    """Grouped vertical bars per label (e.g. joins and leaves per day)."""
    if not labels:
        return ""
    pad_l, pad_b, pad_t = 48, 24, 12
    hi = max([max(vals, default=0) for _, vals, _ in series] + [1])
    w, h = width - pad_l - 8, height - pad_b - pad_t
    slot = w / len(labels)
    bw = max(1.0, slot * 0.8 / len(series))
    parts = [_frame(width, height), *_yticks(0, hi, pad_l, pad_t, h, width)]
    for k, (_name, vals, colour) in enumerate(series):
        for i, v in enumerate(vals):
            bh = h * v / hi
            x = pad_l + slot * i + slot * 0.1 + bw * k
            parts.append(
                f'<rect x="{x:.1f}" y="{pad_t + h - bh:.1f}" width="{bw:.1f}" '
                f'height="{bh:.1f}" fill="{colour}"/>'
            )
    parts += _xlabels(labels, pad_l, w, height)
    return _svg(width, height, parts)


def hbars(rows: list[tuple[str, float, str]], *, width: int = 720) -> str:
    """Horizontal bars with a label and a value text (joins by source, funnel)."""
    if not rows:
        return ""
    row_h, label_w = 26, 220
    height = row_h * len(rows) + 8
    hi = max([v for _, v, _ in rows] + [1])
    parts = []
    for i, (label, v, text) in enumerate(rows):
        y = 4 + i * row_h
        bw = (width - label_w - 90) * v / hi
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" fill="{TEXT}" '
            f'font-size="13">{esc(label[:34])}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{max(bw, 1):.1f}" height="{row_h - 8}" '
            f'rx="3" fill="{ACCENT}"/>'
        )
        parts.append(
            f'<text x="{label_w + bw + 6:.1f}" y="{y + 17}" fill="#222" font-size="12">'
            f"{esc(text)}</text>"
        )
    return _svg(width, height, parts)


def heatmap(grid: list[list[int]], days: list[str], *, width: int = 720) -> str:
    """7 × 24 cells, Monday first, colour by share of the busiest cell."""
    cell_w, cell_h, pad_l, pad_t = (width - 60) / 24, 22, 52, 18
    height = pad_t + 7 * cell_h + 6
    hi = max([max(r) for r in grid] + [1])
    parts = []
    for hr in range(0, 24, 3):
        parts.append(
            f'<text x="{pad_l + hr * cell_w + cell_w / 2:.1f}" y="12" text-anchor="middle" '
            f'fill="{TEXT}" font-size="11">{hr}:00</text>'
        )
    for d, row in enumerate(grid):
        y = pad_t + d * cell_h
        parts.append(
            f'<text x="{pad_l - 6}" y="{y + 15}" text-anchor="end" fill="{TEXT}" '
            f'font-size="12">{esc(days[d])}</text>'
        )
        for hr, v in enumerate(row):
            alpha = 0.06 + 0.94 * (v / hi)
            parts.append(
                f'<rect x="{pad_l + hr * cell_w:.1f}" y="{y}" width="{cell_w - 2:.1f}" '
                f'height="{cell_h - 2}" rx="3" fill="{ACCENT}" fill-opacity="{alpha:.2f}">'
                f"<title>{esc(days[d])} {hr}:00 — {v}</title></rect>"
            )
    return _svg(width, height, parts)


def _frame(width: int, height: int) -> str:
    return f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>'


def _yticks(lo: float, hi: float, pad_l: int, pad_t: int, h: float, width: int) -> list[str]:
    out = []
    small = hi - lo < 8
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        y = pad_t + h * (1 - k / 4)
        out.append(
            f'<line x1="{pad_l}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{pad_l - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}" '
            f'font-size="11">{f"{v:.1f}" if small else _short(v)}</text>'
        )
    return out


def _xlabels(labels: list[str], pad_l: int, w: float, height: int) -> list[str]:
    if not labels:
        return []
    step = max(1, len(labels) // 6)
    out = []
    for i in range(0, len(labels), step):
        x = pad_l + w * (i + 0.5) / len(labels)
        out.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="{TEXT}" '
            f'font-size="11">{esc(labels[i][5:])}</text>'
        )
    return out


def _short(v: float) -> str:
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


def _svg(width: int, height: int, parts: list[Any]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img">{"".join(parts)}</svg>'
    )
