"""Inline SVG charts for the projection report: plain strings, no plotting library and
nothing fetched at run time, so the report opens offline from disk."""

from __future__ import annotations

import math
from html import escape

PALETTE = ["#005eb8", "#d5281b", "#007f3b", "#ffb81c", "#330072", "#ae2573", "#00a499", "#425563"]


def _scale(lo: float, hi: float, out_lo: float, out_hi: float):
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return value


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}"


def line_chart(title: str, series: dict[str, list[tuple[int, float, float, float]]], y_label: str,
               width: int = 640, height: int = 300, y_min: float | None = 0.0) -> str:
    """Lines of (x, value, low, high) with a shaded low-high band per series."""
    xs = [p[0] for pts in series.values() for p in pts]
    ys = [v for pts in series.values() for p in pts for v in p[1:]]
    if not xs:
        return f"<p>{escape(title)}: no data</p>"
    left, right, top, bottom = 64, 150, 28, 36
    lo = 10 * math.floor(min(ys) / 10) if y_min is None else y_min
    hi = lo + 4 * _nice_max((max(ys) - lo) / 4)  # four round steps
    sx = _scale(min(xs), max(xs), left, width - right)
    sy = _scale(lo, hi, height - bottom, top)
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<text x="{left}" y="16" font-weight="bold" font-size="13">{escape(title)}</text>']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = sy(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    for x in sorted(set(xs)):
        if (x - min(xs)) % 5 == 0:
            parts.append(f'<text x="{sx(x):.1f}" y="{height - bottom + 16}" text-anchor="middle">{x}</text>')
    parts.append(f'<text x="14" y="{(top + height - bottom) / 2:.0f}" transform="rotate(-90 14 '
                 f'{(top + height - bottom) / 2:.0f})" text-anchor="middle">{escape(y_label)}</text>')
    labels = []
    for i, (name, pts) in enumerate(series.items()):
        if not pts:
            continue
        colour = PALETTE[i % len(PALETTE)]
        pts = sorted(pts)
        band = [f"{sx(x):.1f},{sy(h):.1f}" for x, _, _, h in pts] + \
               [f"{sx(x):.1f},{sy(low):.1f}" for x, _, low, _ in reversed(pts)]
        parts.append(f'<polygon points="{" ".join(band)}" fill="{colour}" fill-opacity="0.12" stroke="none"/>')
        line = " ".join(f"{sx(x):.1f},{sy(v):.1f}" for x, v, _, _ in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        labels.append([sy(pts[-1][1]) + 4, sx(pts[-1][0]) + 6, colour, name])
    labels.sort()
    for k in range(1, len(labels)):  # end labels at least 12 px apart
        labels[k][0] = max(labels[k][0], labels[k - 1][0] + 12)
    parts += [f'<text x="{x:.1f}" y="{y:.1f}" fill="{c}">{escape(n)}</text>' for y, x, c, n in labels]
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, bars: list[tuple[str, float]], unit: str = "%", width: int = 640) -> str:
    """Horizontal bars (label, value), negative values to the left of zero."""
    if not bars:
        return f"<p>{escape(title)}: no data</p>"
    row, left, right, top = 22, 210, 70, 28
    height = top + row * len(bars) + 10
    lo, hi = min(0.0, *(v for _, v in bars)), max(0.0, *(v for _, v in bars))
    sx = _scale(lo, hi if hi > lo else lo + 1, left, width - right)
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<text x="4" y="16" font-weight="bold" font-size="13">{escape(title)}</text>']
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        x0, x1 = sorted((sx(0), sx(value)))
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 6}" '
                     f'fill="{PALETTE[0]}"/>'
                     f'<text x="{x1 + 4:.1f}" y="{y + 14}">{value:+.1f}{escape(unit)}</text>')
    parts.append(f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{top}" y2="{height - 8}" stroke="#333"/></svg>')
    return "".join(parts)


def pyramid(title: str, bands: list[str], before: dict[tuple[str, str], float],
            after: dict[tuple[str, str], float], before_label: str, after_label: str,
            width: int = 640) -> str:
    """Population pyramid by age band: women left, men right; `after` filled, `before` outlined."""
    row, top, label_w = 24, 48, 60
    height = top + row * len(bands) + 10
    half = (width - label_w) / 2
    peak = max([*before.values(), *after.values(), 1.0])
    scale = (half - 20) / peak
    mid = width / 2
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<text x="4" y="16" font-weight="bold" font-size="13">{escape(title)}</text>',
             f'<text x="{mid - label_w / 2 - 4}" y="42" text-anchor="end">women</text>'
             f'<text x="{mid + label_w / 2 + 4}" y="42">men</text>',
             f'<rect x="{width - 170}" y="6" width="12" height="10" fill="{PALETTE[0]}" fill-opacity="0.55"/>'
             f'<text x="{width - 154}" y="15">{escape(after_label)}</text>'
             f'<rect x="{width - 90}" y="6" width="12" height="10" fill="none" stroke="#000"/>'
             f'<text x="{width - 74}" y="15">{escape(before_label)}</text>']
    for i, band in enumerate(reversed(bands)):
        y = top + i * row
        parts.append(f'<text x="{mid}" y="{y + 15}" text-anchor="middle">{escape(band)}</text>')
        for sex, sign in (("F", -1), ("M", 1)):
            for values, style in ((after, f'fill="{PALETTE[0]}" fill-opacity="0.55"'),
                                  (before, 'fill="none" stroke="#000"')):
                w = values.get((band, sex), 0.0) * scale
                x = mid + label_w / 2 if sign > 0 else mid - label_w / 2 - w
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" {style}/>')
    parts.append("</svg>")
    return "".join(parts)
