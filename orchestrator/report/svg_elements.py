"""Building blocks of the report's SVG plots: the root element, text, axes with ticks, the legend.

Everything returned is a string of SVG markup meant to sit inline in HTML (no XML prolog, no
external references). Every piece of text passes through ``esc``: labels come from task names and
prompts, which come from users and LLMs.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.clip import clip
from orchestrator.report.scale import LinearScale, format_number, integer_ticks, nice_ticks

__all__ = ["Axis", "Frame", "LegendEntry", "axes", "esc", "fmt_px", "legend", "make_axis", "svg_root", "text"]

FONT = 'font-family="system-ui, \'DejaVu Sans\', sans-serif" font-size="11"'
AXIS_COLOR = "#555555"
GRID_COLOR = "#e6e6e6"
LEGEND_WIDTH = 180


def esc(value: object) -> str:
    """Escape text for SVG/HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def svg_root(key: str, title: str, width: float, height: float, body: Sequence[str], css: str = "") -> str:
    """The ``<svg>`` element of one plot.

    Args:
        key: stable identifier (``data-plot``) tests and readers can find the plot by.
        title: the plot's title, drawn at the top and given as the accessible name.
        width: width in pixels.
        height: height in pixels.
        body: the plot's child elements.
        css: extra classes.

    Returns:
        The markup.
    """
    classes = " ".join(["plot", css]).strip()
    head = (
        f'<svg class="{esc(classes)}" data-plot="{esc(key)}" viewBox="0 0 {_num(width)} {_num(height)}"'
        f' width="{_num(width)}" height="{_num(height)}" role="img" aria-label="{esc(title)}" {FONT}>'
    )
    heading = text(8, 16, title, weight="bold", size=13, css="plot-title")
    return "\n".join([head, f"<title>{esc(title)}</title>", heading, *body, "</svg>"])


def text(
    x: float,
    y: float,
    content: object,
    *,
    anchor: str = "start",
    size: float | None = None,
    weight: str | None = None,
    color: str | None = None,
    rotate: float | None = None,
    css: str | None = None,
) -> str:
    """One ``<text>`` element (``content`` is escaped)."""
    attrs = [f'x="{_num(x)}"', f'y="{_num(y)}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if size:
        attrs.append(f'font-size="{_num(size)}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if color:
        attrs.append(f'fill="{color}"')
    if rotate is not None:
        attrs.append(f'transform="rotate({_num(rotate)} {_num(x)} {_num(y)})"')
    if css:
        attrs.append(f'class="{esc(css)}"')
    return f"<text {' '.join(attrs)}>{esc(content)}</text>"


@dataclass(frozen=True)
class Frame:
    """Where the plotting area sits inside the SVG.

    Attributes:
        width: total SVG width.
        height: total SVG height.
        left: margin for the y tick labels and title.
        top: margin for the plot title.
        right: margin (includes the legend's width when there is one).
        bottom: margin for the x tick labels and title.
    """

    width: float
    height: float
    left: float = 58
    top: float = 30
    right: float = 16
    bottom: float = 44

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class Axis:
    """A scale with its ticks, ready to draw."""

    scale: LinearScale
    ticks: list[float]

    @property
    def step(self) -> float:
        return self.ticks[1] - self.ticks[0]


def make_axis(
    low: float, high: float, pixel_low: float, pixel_high: float, count: int = 5, integer: bool = False
) -> Axis:
    """A linear axis whose domain is widened to round ticks covering ``[low, high]``.

    ``integer`` puts the ticks on whole numbers only (iterations, steps).
    """
    ticks = integer_ticks(low, high, count) if integer else nice_ticks(low, high, count)
    return Axis(LinearScale(ticks[0], ticks[-1], pixel_low, pixel_high), ticks)


def axes(
    frame: Frame,
    x_axis: Axis,
    y_axis: Axis | None,
    x_label: str,
    y_label: str = "",
    *,
    x_grid: bool = False,
) -> list[str]:
    """Grid lines, axis lines, tick labels and axis titles for a plotting area.

    Args:
        frame: the plotting area.
        x_axis: the horizontal axis.
        y_axis: the vertical axis; None draws no y ticks (rows are labelled by the caller).
        x_label: x axis title.
        y_label: y axis title.
        x_grid: draw vertical grid lines at the x ticks.

    Returns:
        The elements, wrapped in ``<g class="axes">``.
    """
    parts = ['<g class="axes">']
    for tick in y_axis.ticks if y_axis else []:
        y = y_axis.scale(tick)
        parts.append(
            f'<line x1="{_num(frame.x0)}" y1="{_num(y)}" x2="{_num(frame.x1)}" y2="{_num(y)}"'
            f' stroke="{GRID_COLOR}"/>'
        )
        label = format_number(tick, y_axis.step, scale_from=max(map(abs, y_axis.ticks)))
        parts.append(text(frame.x0 - 6, y + 4, label, anchor="end", color=AXIS_COLOR))
    for tick in x_axis.ticks:
        x = x_axis.scale(tick)
        top = frame.y1 if x_grid else frame.y0
        color = GRID_COLOR if x_grid else AXIS_COLOR
        parts.append(
            f'<line x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x)}" y2="{_num(frame.y0 + 4)}"'
            f' stroke="{color}"/>'
        )
        label = format_number(tick, x_axis.step, scale_from=max(map(abs, x_axis.ticks)))
        parts.append(text(x, frame.y0 + 16, label, anchor="middle", color=AXIS_COLOR))
    parts.append(
        f'<path d="M{_num(frame.x0)} {_num(frame.y1)} V{_num(frame.y0)} H{_num(frame.x1)}"'
        f' fill="none" stroke="{AXIS_COLOR}"/>'
    )
    middle_x = (frame.x0 + frame.x1) / 2
    parts.append(text(middle_x, frame.height - 8, x_label, anchor="middle", css="axis-title"))
    if y_label:
        middle_y = (frame.y0 + frame.y1) / 2
        parts.append(text(14, middle_y, y_label, anchor="middle", rotate=-90, css="axis-title"))
    parts.append("</g>")
    return parts


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a colour swatch (a line, dashed or not, or a dot) and a name."""

    name: str
    color: str
    dashed: bool = False
    dot: bool = False


def legend(entries: Sequence[LegendEntry], x: float, y: float, max_chars: int = 24) -> list[str]:
    """A vertical legend whose top-left corner is at ``(x, y)``; long names are shortened."""
    parts = ['<g class="legend">']
    for row, entry in enumerate(entries):
        top = y + row * 18
        if entry.dot:
            parts.append(f'<circle cx="{_num(x + 9)}" cy="{_num(top)}" r="4" fill="{entry.color}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if entry.dashed else ""
            parts.append(
                f'<line x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x + 18)}" y2="{_num(top)}"'
                f' stroke="{entry.color}" stroke-width="2.5"{dash}/>'
            )
        name = clip(entry.name, max_chars, collapse=False, ellipsis="…")
        parts.append(f"<g><title>{esc(entry.name)}</title>{text(x + 24, top + 4, name)}</g>")
    parts.append("</g>")
    return parts


def fmt_px(value: float) -> str:
    """A pixel coordinate as compact text."""
    return _num(value)
