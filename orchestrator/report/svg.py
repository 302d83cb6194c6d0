"""Small dependency-free SVG charts for the run report: lines, steps, scatter with a front, intervals.

Each function returns one ``<svg class="plot" data-plot=KEY>`` string that works inline in HTML
without scripts. Data marks carry classes (``series``, ``point``, ``front``, ``interval``) so the
tests and anyone reading the markup can find them; every mark has a ``<title>`` tooltip. Missing
values (None, nan) are skipped: a line breaks there instead of dropping to zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.clip import clip
from orchestrator.json_safe import is_finite
from orchestrator.report.colors import series_color
from orchestrator.report.scale import data_extent, format_number
from orchestrator.report.svg_elements import (
    LEGEND_WIDTH,
    Frame,
    LegendEntry,
    axes,
    esc,
    fmt_px,
    legend,
    make_axis,
    svg_root,
    text,
)

__all__ = [
    "IntervalRow",
    "ScatterGroup",
    "ScatterPoint",
    "Series",
    "empty_plot",
    "interval_chart",
    "line_chart",
    "scatter_chart",
]

Point = tuple[float, float | None]


@dataclass(frozen=True)
class Series:
    """One line of a line chart.

    Attributes:
        name: legend text.
        points: ``(x, y)`` pairs; a None or nan ``y`` breaks the line.
        color: ``#rrggbb``; None takes the next palette colour.
        dashed: draw dashed (e.g. a best-so-far line over individual candidates).
        markers: draw a dot at each point.
        lines: connect the points (False: dots only).
        step: draw as a step function (holds each value until the next x), for cumulative counts.
    """

    name: str
    points: Sequence[Point]
    color: str | None = None
    dashed: bool = False
    markers: bool = True
    lines: bool = True
    step: bool = False


def _segments(points: Sequence[Point]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if is_finite(y) and math.isfinite(x):
            segments[-1].append((x, float(y)))
        elif segments[-1]:
            segments.append([])
    return [s for s in segments if s]


def _path(segment: list[tuple[float, float]], x_of, y_of, step: bool) -> str:
    first_x, first_y = segment[0]
    moves = [f"M{fmt_px(x_of(first_x))} {fmt_px(y_of(first_y))}"]
    for x, y in segment[1:]:
        if step:
            moves.append(f"H{fmt_px(x_of(x))} V{fmt_px(y_of(y))}")
        else:
            moves.append(f"L{fmt_px(x_of(x))} {fmt_px(y_of(y))}")
    return " ".join(moves)


def empty_plot(key: str, title: str, message: str, width: float = 560, height: float = 120) -> str:
    """A placeholder plot saying why there is nothing to draw."""
    body = [text(width / 2, height / 2 + 8, message, anchor="middle", color="#777777", css="empty-note")]
    return svg_root(key, title, width, height, body, css="empty")


def line_chart(
    key: str,
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    y_domain: tuple[float, float] | None = None,
    width: float = 560,
    height: float = 300,
    integer_x: bool = False,
) -> str:
    """A line (or step) chart of several series with axes, ticks and a legend.

    Args:
        key: the plot's ``data-plot`` identifier.
        title: drawn at the top.
        series: the lines; colours default to the palette in order.
        x_label: x axis title.
        y_label: y axis title.
        y_domain: values the y axis must cover (e.g. ``(0, 1)``) besides the data.
        width: SVG width in pixels.
        height: SVG height in pixels.
        integer_x: ticks at whole numbers only (iterations, steps).

    Returns:
        The ``<svg>`` markup, or an ``empty_plot`` when no series has a finite point.
    """
    xs = data_extent(x for s in series for x, y in s.points if is_finite(y))
    ys = data_extent([y for s in series for _, y in s.points] + list(y_domain or ()))
    if xs is None or ys is None:
        return empty_plot(key, title, "no data recorded")
    frame = Frame(width, height, right=LEGEND_WIDTH + 12)
    x_axis = make_axis(xs[0], xs[1], frame.x0 + 6, frame.x1 - 6, count=6, integer=integer_x)
    y_axis = make_axis(ys[0], ys[1], frame.y0, frame.y1 + 4)
    body = axes(frame, x_axis, y_axis, x_label, y_label)
    entries = []
    for index, line in enumerate(series):
        color = line.color or series_color(index)
        entries.append(LegendEntry(line.name, color, dashed=line.dashed, dot=not line.lines))
        body.append(f'<g class="series-group" data-series="{esc(line.name)}">')
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        for segment in _segments(line.points) if line.lines else []:
            path = _path(segment, x_axis.scale, y_axis.scale, line.step)
            body.append(
                f'<path class="series" d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}>'
                f"<title>{esc(line.name)}</title></path>"
            )
        if line.markers or not line.lines:
            for x, y in (p for seg in _segments(line.points) for p in seg):
                tip = f"{line.name}: x={format_number(x)}, y={format_number(y)}"
                body.append(
                    f'<circle class="point" cx="{fmt_px(x_axis.scale(x))}" cy="{fmt_px(y_axis.scale(y))}"'
                    f' r="3" fill="{color}"><title>{esc(tip)}</title></circle>'
                )
        body.append("</g>")
    body += legend(entries, frame.x1 + 12, frame.y1 + 8)
    return svg_root(key, title, width, height, body)


@dataclass(frozen=True)
class ScatterPoint:
    """One scatter point; ``label`` becomes its tooltip."""

    x: float
    y: float
    label: str = ""


@dataclass(frozen=True)
class ScatterGroup:
    """A set of scatter points drawn in one colour, with some of them highlighted as a front.

    Attributes:
        name: legend text.
        points: the points.
        front: indices into ``points`` of the highlighted (e.g. Pareto-optimal) points.
        color: ``#rrggbb``; None takes the next palette colour.
    """

    name: str
    points: Sequence[ScatterPoint]
    front: Sequence[int] = field(default_factory=tuple)
    color: str | None = None


def scatter_chart(
    key: str,
    title: str,
    groups: Sequence[ScatterGroup],
    *,
    x_label: str,
    y_label: str,
    width: float = 560,
    height: float = 340,
) -> str:
    """A scatter plot; each group's front points are ringed and joined by a dashed line.

    Returns:
        The ``<svg>`` markup, or an ``empty_plot`` when no group has a finite point.
    """
    usable = [p for g in groups for p in g.points if math.isfinite(p.x) and math.isfinite(p.y)]
    if not usable:
        return empty_plot(key, title, "no candidates with both dimensions")
    frame = Frame(width, height, right=LEGEND_WIDTH + 12)
    x_axis = make_axis(min(p.x for p in usable), max(p.x for p in usable), frame.x0 + 8, frame.x1 - 8)
    y_axis = make_axis(min(p.y for p in usable), max(p.y for p in usable), frame.y0 - 6, frame.y1 + 6)
    body = axes(frame, x_axis, y_axis, x_label, y_label)
    entries = []
    for index, group in enumerate(groups):
        color = group.color or series_color(index)
        entries.append(LegendEntry(group.name, color, dot=True))
        front = [group.points[i] for i in sorted(set(group.front))]
        front = sorted((p for p in front if math.isfinite(p.x) and math.isfinite(p.y)), key=lambda p: p.x)
        body.append(f'<g class="series-group" data-series="{esc(group.name)}">')
        if len(front) > 1:
            coords = " ".join(f"{fmt_px(x_axis.scale(p.x))},{fmt_px(y_axis.scale(p.y))}" for p in front)
            body.append(
                f'<polyline class="front-line" points="{coords}" fill="none" stroke="{color}"'
                ' stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
        front_ids = {id(p) for p in front}
        for point in group.points:
            if not (math.isfinite(point.x) and math.isfinite(point.y)):
                continue
            on_front = id(point) in front_ids
            css = "point front" if on_front else "point"
            ring = ' r="6" stroke="#111111" stroke-width="1.5"' if on_front else ' r="4" fill-opacity="0.55"'
            body.append(
                f'<circle class="{css}" cx="{fmt_px(x_axis.scale(point.x))}"'
                f' cy="{fmt_px(y_axis.scale(point.y))}" fill="{color}"{ring}>'
                f"<title>{esc(point.label)}</title></circle>"
            )
        body.append("</g>")
    entries.append(LegendEntry("front (ringed)", "#111111", dashed=True))
    body += legend(entries, frame.x1 + 12, frame.y1 + 8)
    return svg_root(key, title, width, height, body)


@dataclass(frozen=True)
class IntervalRow:
    """One row of an interval chart: a point estimate with its confidence interval."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    color: str | None = None


def interval_chart(
    key: str,
    title: str,
    rows: Sequence[IntervalRow],
    *,
    x_label: str,
    width: float = 720,
    label_width: float = 190,
    reference_lines: Sequence[tuple[str, float]] = (),
) -> str:
    """A forest plot: one row per contender, its value as a dot and its interval as a bar.

    ``reference_lines`` are ``(label, value)`` pairs drawn as dashed vertical lines across the rows
    (the majority-class and chance rates, say), so a contender can be read against them.

    Returns:
        The ``<svg>`` markup, or an ``empty_plot`` when no row has a value.
    """
    shown = [r for r in rows if is_finite(r.value)]
    if not shown:
        return empty_plot(key, title, "no scores to compare")
    height = 30 + 26 * len(shown) + 44
    frame = Frame(width, height, left=label_width, right=70, top=34)
    lines = [(label, value) for label, value in reference_lines if is_finite(value)]
    bounds = [v for r in shown for v in (r.value, r.low, r.high)] + [v for _, v in lines]
    extent = data_extent(bounds) or (0.0, 1.0)
    x_axis = make_axis(extent[0], extent[1], frame.x0 + 6, frame.x1 - 6)
    body = axes(frame, x_axis, None, x_label, x_grid=True)
    for label, value in lines:
        x = fmt_px(x_axis.scale(value))
        body.append(
            f'<line class="reference" x1="{x}" y1="{fmt_px(frame.y1)}" x2="{x}" y2="{fmt_px(frame.y0)}"'
            f' stroke="#777777" stroke-width="1.5" stroke-dasharray="5 4">'
            f"<title>{esc(label)}: {format_number(value)}</title></line>"
        )
        body.append(text(x_axis.scale(value) + 3, frame.y1 + 8, label, color="#555555"))
    for index, row in enumerate(shown):
        y = frame.y1 + 14 + index * 26
        color = row.color or series_color(index)
        name = clip(row.label, 28, collapse=False, ellipsis="…")
        body.append(text(frame.x0 - 10, y + 4, name, anchor="end"))
        tip = f"{row.label}: {format_number(row.value)}"
        if is_finite(row.low) and is_finite(row.high):
            tip += f" [{format_number(row.low)}, {format_number(row.high)}]"
            body.append(
                f'<line class="interval" x1="{fmt_px(x_axis.scale(row.low))}" y1="{fmt_px(y)}"'
                f' x2="{fmt_px(x_axis.scale(row.high))}" y2="{fmt_px(y)}" stroke="{color}"'
                f' stroke-width="3" stroke-linecap="round"><title>{esc(tip)}</title></line>'
            )
        body.append(
            f'<circle class="point" cx="{fmt_px(x_axis.scale(row.value))}" cy="{fmt_px(y)}" r="5"'
            f' fill="{color}" stroke="#111111"><title>{esc(tip)}</title></circle>'
        )
        body.append(text(frame.x1 + 8, y + 4, f"{row.value:.3f}", color="#333333"))
    return svg_root(key, title, width, height, body)
