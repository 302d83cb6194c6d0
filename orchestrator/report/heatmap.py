"""An SVG heatmap with row and column labels, values printed in the cells and a colour scale.

Used for the gate weights (source tasks x prompt pool) and the task vectors' cosine similarities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from orchestrator.clip import clip
from orchestrator.report.colors import SEQUENTIAL, ColorMap, text_color_on
from orchestrator.report.scale import format_number
from orchestrator.report.svg import empty_plot
from orchestrator.report.svg_elements import esc, fmt_px, svg_root, text

__all__ = ["heatmap"]

_CHAR_WIDTH = 6.4  # average glyph width at 11 px, enough to size the label margins
_BAR_STEPS = 24


def _shorten(label: str, limit: int) -> str:
    return clip(label, limit, collapse=False, ellipsis="…")


def heatmap(
    key: str,
    title: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    matrix: Sequence[Sequence[float | None]],
    *,
    domain: tuple[float, float] = (0.0, 1.0),
    color_map: ColorMap = SEQUENTIAL,
    x_label: str = "",
    y_label: str = "",
    max_width: float = 720,
) -> str:
    """A heatmap of ``matrix`` (rows x columns).

    Args:
        key: the plot's ``data-plot`` identifier.
        title: drawn at the top.
        row_labels: one label per row.
        col_labels: one label per column.
        matrix: ``len(row_labels)`` rows of ``len(col_labels)`` values; None or nan is drawn grey.
        domain: values mapped to the two ends of the colour map (others are clipped).
        color_map: the colour map.
        x_label: title under the column labels' axis.
        y_label: title of the row labels' axis.
        max_width: the widest the SVG may be.

    Returns:
        The ``<svg>`` markup, or an ``empty_plot`` for an empty matrix.

    Raises:
        ValueError: the matrix's shape does not match the labels, or an empty ``domain``.
    """
    if len(matrix) != len(row_labels) or any(len(row) != len(col_labels) for row in matrix):
        shape = f"{len(matrix)} rows of {sorted({len(r) for r in matrix})} values"
        raise ValueError(f"heatmap {key!r}: need {len(row_labels)} x {len(col_labels)}, got {shape}")
    if not domain[1] > domain[0]:
        raise ValueError(f"heatmap {key!r}: empty domain {domain}")
    if not row_labels or not col_labels:
        return empty_plot(key, title, "nothing to show")
    rows = [_shorten(str(label), 28) for label in row_labels]
    cols = [_shorten(str(label), 22) for label in col_labels]
    left = 16 + (18 if y_label else 0) + _CHAR_WIDTH * max(len(r) for r in rows)
    top = 34 + 0.72 * _CHAR_WIDTH * max(len(c) for c in cols) + 8
    cell_w = max(18.0, min(64.0, (max_width - left - 90) / len(cols)))
    cell_h = max(16.0, min(34.0, cell_w * 0.7))
    width = left + cell_w * len(cols) + 90
    height = top + cell_h * len(rows) + (34 if x_label else 14)
    body = ['<g class="cells">']
    show_values = cell_w >= 30 and cell_h >= 16
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            body += _cell(
                left + c * cell_w,
                top + r * cell_h,
                cell_w,
                cell_h,
                value,
                domain,
                color_map,
                f"{row_labels[r]} × {col_labels[c]}",
                show_values,
            )
    body.append("</g>")
    for r, label in enumerate(rows):
        body.append(
            f"<g><title>{esc(row_labels[r])}</title>"
            f"{text(left - 6, top + (r + 0.5) * cell_h + 4, label, anchor='end')}</g>"
        )
    for c, label in enumerate(cols):
        x, y = left + (c + 0.5) * cell_w, top - 6
        body.append(f"<g><title>{esc(col_labels[c])}</title>{text(x, y, label, rotate=-40)}</g>")
    if x_label:
        body.append(
            text(left + cell_w * len(cols) / 2, height - 8, x_label, anchor="middle", css="axis-title")
        )
    if y_label:
        body.append(
            text(14, top + cell_h * len(rows) / 2, y_label, anchor="middle", rotate=-90, css="axis-title")
        )
    body += _color_bar(left + cell_w * len(cols) + 18, top, max(cell_h * len(rows), 80), domain, color_map)
    return svg_root(key, title, width, height, body)


def _cell(
    x: float,
    y: float,
    w: float,
    h: float,
    value: float | None,
    domain: tuple[float, float],
    color_map: ColorMap,
    name: str,
    show_value: bool,
) -> list[str]:
    finite = value is not None and math.isfinite(value)
    share = (value - domain[0]) / (domain[1] - domain[0]) if finite else math.nan
    fill = color_map(share)
    tip = f"{name}: {format_number(value) if finite else 'n/a'}"
    parts = [
        f'<rect class="cell" x="{fmt_px(x)}" y="{fmt_px(y)}" width="{fmt_px(w)}" height="{fmt_px(h)}"'
        f' fill="{fill}" stroke="#ffffff" data-value="{esc(value if finite else "")}">'
        f"<title>{esc(tip)}</title></rect>"
    ]
    if show_value:
        label = f"{value:.2f}" if finite else "n/a"
        parts.append(
            text(x + w / 2, y + h / 2 + 4, label, anchor="middle", color=text_color_on(fill), size=10)
        )
    return parts


def _color_bar(
    x: float, y: float, height: float, domain: tuple[float, float], color_map: ColorMap
) -> list[str]:
    step = height / _BAR_STEPS
    parts = ['<g class="color-scale">']
    for i in range(_BAR_STEPS):
        share = 1 - (i + 0.5) / _BAR_STEPS
        parts.append(
            f'<rect x="{fmt_px(x)}" y="{fmt_px(y + i * step)}" width="14" height="{fmt_px(step + 0.5)}"'
            f' fill="{color_map(share)}"/>'
        )
    low, high = domain
    for share in (0.0, 0.5, 1.0):
        value = low + share * (high - low)
        parts.append(text(x + 20, y + (1 - share) * height + 4, format_number(value, (high - low) / 4)))
    parts.append("</g>")
    return parts
