"""Small inline SVG charts for the HTML report: no scripts, no external resources."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")
_FONT = 'font-family="sans-serif" font-size="11"'


def grouped_bars(groups: Sequence[str], series: Mapping[str, Sequence[float | None]],
                 title: str, width: int = 760, height: int = 300) -> str:
    """Bars of 0..1 values: one cluster per group, one bar per series (a missing value
    draws no bar)."""
    left, right, top, bottom = 40, 10, 30, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    names = list(series)
    slot = plot_w / max(len(groups), 1)
    bar_w = slot * 0.8 / max(len(names), 1)
    parts = [_open(width, height, title), _text(left, 18, title, bold=True)]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(_text(left - 4, y + 4, f"{tick:g}", anchor="end"))
    for g, group in enumerate(groups):
        x0 = left + g * slot + slot * 0.1
        for s, name in enumerate(names):
            value = series[name][g]
            if value is None:
                continue
            h = plot_h * max(0.0, min(1.0, value))
            x = x0 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w * 0.9:.1f}" '
                f'height="{h:.1f}" fill="{_COLORS[s % len(_COLORS)]}">'
                f"<title>{escape(f'{name} {group}: {value:.3f}')}</title></rect>")
        cx = left + g * slot + slot / 2
        for line, word in enumerate(group.split(" ")):  # one word per line: labels stay narrow
            parts.append(_text(cx, top + plot_h + 14 + 12 * line, word, anchor="middle"))
    parts += _legend(names, left, height - 22)
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(values: Sequence[float], title: str, unit: str = "ms",
              markers: Mapping[str, float | None] | None = None, bins: int = 20,
              width: int = 760, height: int = 240) -> str:
    """A histogram of ``values`` with optional labelled vertical markers (p50, p95)."""
    left, right, top, bottom = 40, 10, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_open(width, height, title), _text(left, 18, title, bold=True)]
    if not values:
        parts += [_text(left, top + 20, "no data"), "</svg>"]
        return "\n".join(parts)
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    peak = max(counts)
    bin_w = plot_w / bins
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        edge = low + span * i / bins
        parts.append(
            f'<rect x="{left + i * bin_w:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{bin_w * 0.95:.1f}" height="{h:.1f}" fill="{_COLORS[0]}">'
            f"<title>{escape(f'{edge:.1f}-{edge + span / bins:.1f} {unit}: {count}')}"
            "</title></rect>")
    for s, (label, value) in enumerate((markers or {}).items(), start=1):
        if value is None or not math.isfinite(value):
            continue
        x = left + plot_w * (value - low) / span
        color = _COLORS[s % len(_COLORS)]
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                     f'stroke="{color}" stroke-width="2"/>')
        parts.append(_text(x + 3, top + 10 + 12 * (s - 1), f"{label} {value:.1f} {unit}"))
    parts.append(_text(left, top + plot_h + 16, f"{low:.1f} {unit}"))
    parts.append(_text(width - right, top + plot_h + 16, f"{high:.1f} {unit}", anchor="end"))
    parts.append("</svg>")
    return "\n".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">')


def _text(x: float, y: float, text: str, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {_FONT}{weight}>'
            f"{escape(text)}</text>")


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        cx = x + i * 110
        parts.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" '
                     f'fill="{_COLORS[i % len(_COLORS)]}"/>')
        parts.append(_text(cx + 14, y, name))
    return parts
