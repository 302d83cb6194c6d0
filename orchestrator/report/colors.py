"""Colours for the report's plots: a categorical palette and the heatmaps' colour maps.

The categorical palette is Tableau 10 (distinct, readable on white, safe for the common forms of
colour blindness when combined with the legend's names). Heatmaps use a sequential blue map for
weights in [0, 1] and a diverging blue-white-red map for similarities in [-1, 1].
"""

from __future__ import annotations

import math

__all__ = ["PALETTE", "ColorMap", "DIVERGING", "SEQUENTIAL", "series_color", "text_color_on"]

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def series_color(index: int) -> str:
    """The palette colour for the ``index``-th series (cycling past ten)."""
    return PALETTE[index % len(PALETTE)]


def _rgb(hex_color: str) -> tuple[int, int, int]:
    value = hex_color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


class ColorMap:
    """Piecewise-linear colour map over evenly spaced stops.

    Args:
        stops: two or more ``#rrggbb`` colours, from the low end to the high end.
    """

    def __init__(self, stops: tuple[str, ...]):
        if len(stops) < 2:
            raise ValueError("ColorMap needs at least two stops")
        self.stops = stops
        self._rgb = [_rgb(s) for s in stops]

    def __call__(self, share: float) -> str:
        """The colour at ``share`` in [0, 1] (clipped; nan gives light grey)."""
        if share is None or math.isnan(share):
            return "#dddddd"
        share = min(1.0, max(0.0, share))
        position = share * (len(self._rgb) - 1)
        index = min(int(position), len(self._rgb) - 2)
        frac = position - index
        low, high = self._rgb[index], self._rgb[index + 1]
        return _hex(tuple(a + (b - a) * frac for a, b in zip(low, high, strict=True)))


SEQUENTIAL = ColorMap(("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"))
DIVERGING = ColorMap(("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"))


def text_color_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (relative luminance)."""
    red, green, blue = (c / 255 for c in _rgb(background))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#111111" if luminance > 0.5 else "#ffffff"
