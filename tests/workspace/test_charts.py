"""The server-drawn SVG charts: points where their times and values say, the reference band,
out-of-range points marked, labels escaped, and the edge cases (one point, equal values)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from server.workspace import charts

ZONE = timezone(timedelta(hours=7))


def day(n: int) -> datetime:
    return datetime(2025, 1, 1, 8, tzinfo=ZONE) + timedelta(days=n)


def points_of(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle class="pt[^"]*" cx="([\d.]+)" cy="([\d.]+)"', svg)]


def test_points_follow_time_and_value() -> None:
    svg = charts.line_chart([(day(30), 7.0), (day(0), 5.0), (day(10), 6.0)], title="Glucose", unit="mmol/L")
    pts = points_of(svg)
    assert len(pts) == 3
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    assert xs == sorted(xs) and len(set(xs)) == 3  # drawn in time order, left to right
    assert ys == sorted(ys, reverse=True)  # larger values higher up (smaller y)
    # spacing is proportional to time: 10 days then 20 days
    assert abs((xs[2] - xs[1]) - 2 * (xs[1] - xs[0])) < 0.5
    assert all(charts.LEFT <= x <= charts.WIDTH - charts.RIGHT for x in xs)
    assert all(charts.TOP <= y <= charts.HEIGHT - charts.BOTTOM for y in ys)


def test_reference_band_and_out_of_range_points() -> None:
    svg = charts.line_chart([(day(0), 3.0), (day(1), 5.0), (day(2), 9.0)], title="G", low=3.9, high=6.4)
    band = re.search(r'<rect class="band" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', svg)
    assert band
    top, height = float(band.group(1)), float(band.group(2))
    ys = [p[1] for p in points_of(svg)]
    assert top < ys[1] < top + height  # 5.0 inside the band
    assert not top < ys[0] < top + height and not top < ys[2] < top + height
    assert svg.count('class="pt out"') == 2
    assert svg.count(f'fill="{charts.ALARM}"') == 2


def test_no_band_without_a_range() -> None:
    assert 'class="band"' not in charts.line_chart([(day(0), 1.0), (day(1), 2.0)], title="x")


def test_labels_are_escaped_and_the_chart_is_labelled() -> None:
    svg = charts.line_chart([(day(0), 1.0), (day(1), 2.0)], title='<b>"HbA1c"</b>', unit="<%>")
    assert svg.startswith('<svg class="chart" role="img" aria-label="')
    assert "<b>" not in svg and "&lt;b&gt;&quot;HbA1c&quot;&lt;/b&gt;" in svg
    assert "&lt;%&gt;" in svg
    assert "<title>&lt;b&gt;" in svg
    assert 'viewBox="0 0 ' in svg and "style=" not in svg and "<script" not in svg


def test_one_point_is_centred() -> None:
    svg = charts.line_chart([(day(0), 5.0)], title="x")
    (x, y), = points_of(svg)
    middle = charts.LEFT + (charts.WIDTH - charts.LEFT - charts.RIGHT) / 2
    assert abs(x - middle) < 0.5
    assert charts.TOP < y < charts.HEIGHT - charts.BOTTOM
    assert "01/01/2025" in svg


def test_equal_values_make_a_flat_line_inside_the_plot() -> None:
    svg = charts.line_chart([(day(0), 70.0), (day(5), 70.0), (day(9), 70.0)], title="kg")
    ys = {p[1] for p in points_of(svg)}
    assert len(ys) == 1
    (y,) = ys
    assert charts.TOP < y < charts.HEIGHT - charts.BOTTOM
    assert "nan" not in svg.lower() and "inf" not in svg.lower()


def test_value_ticks_are_round_numbers() -> None:
    svg = charts.line_chart([(day(0), 3.2), (day(1), 8.7)], title="x")
    ticks = [float(t) for t in re.findall(r'<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="end"[^>]*>([\d.]+)<', svg)]
    assert len(ticks) >= 3
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and steps.pop() in (0.5, 1.0, 2.0)


def test_two_series_share_the_axes_with_a_legend_and_distinct_shapes() -> None:
    svg = charts.chart([charts.Series("Tâm thu", [(day(0), 140.0), (day(3), 130.0)]),
                        charts.Series("Tâm trương", [(day(0), 90.0), (day(3), 80.0)])], title="Huyết áp", unit="mm[Hg]")
    assert svg.count('<path class="line') == 2
    assert svg.count('class="legend"') == 2
    assert len(re.findall(r'<rect class="pt', svg)) == 3  # squares: two points and the legend's mark
    systolic = points_of(svg)
    squares = [float(y) for y in re.findall(r'<rect class="pt[^"]*" x="[\d.]+" y="([\d.]+)"', svg)][:2]
    assert all(sq > max(y for _, y in systolic) for sq in squares)  # diastolic below systolic


def test_no_points_no_chart() -> None:
    assert charts.chart([charts.Series("a", [])], title="x") == ""
