"""Line charts as inline SVG, drawn on the server: the workspace runs no script and loads no library.

A chart is a string of escaped SVG that scales to its container through its ``viewBox``. It is an
image to screen readers (``role="img"`` with an ``aria-label`` that says what it shows); the page
puts the same numbers in a table next to it, which is what a screen reader reads. Points outside
the reference band are drawn larger and in the alarm colour, so a glance finds them; each point
has a ``<title>`` (its date and value), a tooltip for a mouse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from .layout import h

#: the drawing area in viewBox units; text is sized for about 360 px on a phone
WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 26, 32
#: text size in viewBox units (about 9 px when the chart is 330 px wide)
FONT = 13
#: line colour and point shape per series (shapes tell series apart without colour)
STYLES = (("#0b5cad", "circle"), ("#8a4f00", "square"))
ALARM = "#b3261e"
BAND = "#dff0e4"

Point = tuple[datetime, float]


@dataclass
class Series:
    """One line: its points (any order) and its name in the legend."""

    label: str
    points: Sequence[Point]


def line_chart(points: Sequence[Point], *, title: str, unit: str = "", low: float | None = None,
               high: float | None = None, label: str = "") -> str:
    """One series over time, with the reference band ``low``–``high`` when given."""
    return chart([Series(label or title, points)], title=title, unit=unit, low=low, high=high)


def chart(series: Sequence[Series], *, title: str, unit: str = "", low: float | None = None,
          high: float | None = None, date_format: str = "%d/%m/%Y") -> str:
    """Several series on one time axis and one value axis (blood pressure's two lines)."""
    drawn = [Series(s.label, sorted(s.points, key=lambda p: timestamp(p[0]))) for s in series if s.points]
    if not drawn:
        return ""
    times = [timestamp(t) for s in drawn for t, _ in s.points]
    values = [v for s in drawn for _, v in s.points]
    bounds = [v for v in (low, high) if v is not None]
    v_lo, v_hi = _padded(min(values + bounds), max(values + bounds))
    t_lo, t_hi = min(times), max(times)
    if t_hi == t_lo:  # one day: put it in the middle
        t_lo, t_hi = t_lo - 86400, t_hi + 86400
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - t_lo) / (t_hi - t_lo) * plot_w

    def y(v: float) -> float:
        return TOP + (v_hi - v) / (v_hi - v_lo) * plot_h

    zone = drawn[0].points[0][0].tzinfo
    parts = [f'<title>{h(title)}</title>']
    if low is not None or high is not None:
        top, bottom = y(high if high is not None else v_hi), y(low if low is not None else v_lo)
        parts.append(f'<rect class="band" x="{LEFT}" y="{top:.1f}" width="{plot_w}" height="{max(bottom - top, 0):.1f}" fill="{BAND}"/>')
    for v in _value_ticks(v_lo, v_hi):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d5dbe1" stroke-width="1"/>'
                     f'<text class="tick" x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="{FONT}" fill="#5b6673">{h(_number(v))}</text>')
    ticks = _time_ticks(min(times), max(times))
    for k, t in enumerate(ticks):
        label = datetime.fromtimestamp(t, zone or timezone.utc).strftime(date_format)
        anchor = "middle" if len(ticks) == 1 else "start" if k == 0 else "end" if k == len(ticks) - 1 else "middle"
        parts.append(f'<line class="tick" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 4}" stroke="#5b6673"/>'
                     f'<text class="tick" x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" font-size="{FONT}" fill="#5b6673">{h(label)}</text>')
    parts.append(f'<path class="axis" d="M{LEFT} {TOP}V{HEIGHT - BOTTOM}H{WIDTH - RIGHT}" fill="none" stroke="#5b6673" stroke-width="1"/>')
    if unit:
        parts.append(f'<text class="unit" x="2" y="{TOP - 10}" font-size="{FONT}" fill="#5b6673">{h(unit)}</text>')
    for i, s in enumerate(drawn):
        colour, shape = STYLES[i % len(STYLES)]
        path = "".join(f'{"M" if k == 0 else "L"}{x(timestamp(t)):.1f} {y(v):.1f}' for k, (t, v) in enumerate(s.points))
        parts.append(f'<path class="line s{i}" d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for t, v in s.points:
            out = (low is not None and v < low) or (high is not None and v > high)
            parts.append(_mark(shape, x(timestamp(t)), y(v), ALARM if out else colour, out,
                               f"{s.label}: {t.strftime(date_format)} — {_number(v)} {unit}".strip()))
        if len(drawn) > 1:  # a legend: the shape and the name
            lx = WIDTH - RIGHT - (len(drawn) - i) * 120
            parts.append(_mark(shape, lx, TOP - 14, colour, False, s.label)
                         + f'<text class="legend" x="{lx + 8}" y="{TOP - 10}" font-size="{FONT}" fill="#1d2733">{h(s.label)}</text>')
    summary = _summary(title, drawn, unit, low, high, date_format)
    return (f'<svg class="chart" role="img" aria-label="{h(summary)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">{"".join(parts)}</svg>')


def _mark(shape: str, cx: float, cy: float, colour: str, out: bool, tip: str) -> str:
    """A point: circle or square, bigger and in the alarm colour when out of range."""
    r = 5.5 if out else 3.5
    cls = "pt out" if out else "pt"
    if shape == "square":
        body = f'<rect class="{cls}" x="{cx - r:.1f}" y="{cy - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}">'
        return f"{body}<title>{h(tip)}</title></rect>"
    return f'<circle class="{cls}" cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{colour}"><title>{h(tip)}</title></circle>'


def _summary(title: str, drawn: Sequence[Series], unit: str, low: float | None, high: float | None, fmt: str) -> str:
    """What the chart shows, in one sentence of numbers (its ``aria-label``)."""
    bits = []
    for s in drawn:
        first, last = s.points[0], s.points[-1]
        bits.append(f"{s.label}: {len(s.points)} × {first[0].strftime(fmt)}–{last[0].strftime(fmt)}, "
                    f"{_number(first[1])} → {_number(last[1])} {unit}".strip())
    band = f" [{_number(low) if low is not None else ''}–{_number(high) if high is not None else ''}]" if low is not None or high is not None else ""
    return f"{title}{band}. " + "; ".join(bits)


def timestamp(t: datetime) -> float:
    """Seconds since the epoch; a time without zone is taken as UTC (dates are compared as dates)."""
    return t.timestamp() if t.tzinfo else t.replace(tzinfo=timezone.utc).timestamp()


def _padded(lo: float, hi: float) -> tuple[float, float]:
    """The value axis: the data with a margin, and some height when every value is the same."""
    if hi == lo:
        spread = abs(lo) * 0.1 or 1.0
        return lo - spread, hi + spread
    margin = (hi - lo) * 0.08
    return lo - margin, hi + margin


def _value_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) inside ``lo``–``hi``."""
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _time_ticks(t_lo: float, t_hi: float, count: int = 4) -> list[float]:
    """Dates along the axis: the first and last reading and evenly spaced ones between."""
    if t_hi == t_lo:
        return [t_lo]
    return [t_lo + (t_hi - t_lo) * k / (count - 1) for k in range(count)]


def _number(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)
