"""Axis arithmetic for the report's plots: "nice" tick positions, linear scales and tick labels.

Pure functions with no drawing in them, so they can be tested on their own (property tests pin
that the ticks cover the data and are evenly spaced).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LinearScale", "data_extent", "format_number", "integer_ticks", "nice_ticks"]

_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def _nice_step(raw_step: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(raw_step))
    for factor in _NICE_STEPS:
        if raw_step <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always ends at factor 10


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Evenly spaced round tick values that cover ``[low, high]``.

    Args:
        low: smallest value to cover (finite).
        high: largest value to cover (finite, ``>= low``).
        count: about how many ticks to make (at least 2).

    Returns:
        Ascending ticks; the first is ``<= low`` and the last ``>= high`` (to within a millionth of
        a step); steps are 1, 2, 2.5 or 5 times a power of ten. A zero-width range is widened
        around its value (to 0-1 when it is zero).

    Raises:
        ValueError: a non-finite bound, ``low > high`` or ``count < 2``.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"nice_ticks: bounds must be finite, got [{low}, {high}]")
    if low > high:
        raise ValueError(f"nice_ticks: low {low} > high {high}")
    if count < 2:
        raise ValueError(f"nice_ticks: count must be at least 2, got {count}")
    size = max(abs(low), abs(high))
    if high - low <= 1e-12 * max(1.0, size):
        if size < 1e-12:
            low, high = 0.0, 1.0  # all-zero data (no spend yet) gets a 0-1 axis, nothing below zero
        else:
            low, high = low - 0.1 * size, high + 0.1 * size
    step = _nice_step((high - low) / (count - 1))
    first = math.floor(low / step + 1e-9) * step
    digits = max(0, 3 - math.floor(math.log10(step)))  # rounds away float noise (0.30000000000000004)
    ticks = []
    index = 0
    while True:
        value = first + index * step
        ticks.append(0.0 if abs(value) < step * 1e-9 else round(value, digits))
        if value >= high - step * 1e-9:
            break
        index += 1
    return ticks


def integer_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Whole-number ticks (iterations, training steps) covering ``[low, high]``, at most ``count`` + 1.

    The step is 1, 2 or 5 times a power of ten; a range shorter than one gets ticks one apart.

    Raises:
        ValueError: a non-finite bound, ``low > high`` or ``count < 1``.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low > high or count < 1:
        raise ValueError(
            f"integer_ticks: need finite low <= high and count >= 1, got [{low}, {high}], {count}"
        )
    first, last = math.floor(low), max(math.ceil(high), math.floor(low) + 1)
    index = 0
    step = 1
    while (last - first) / step > count:
        index += 1
        step = (1, 2, 5)[index % 3] * 10 ** (index // 3)  # 1, 2, 5, 10, 20, 50, ...
    first = first // step * step
    last = -(-last // step) * step
    return [float(v) for v in range(first, last + 1, step)]


@dataclass(frozen=True)
class LinearScale:
    """Maps data values in ``[domain_low, domain_high]`` onto pixels in ``[pixel_low, pixel_high]``.

    ``pixel_high`` may be smaller than ``pixel_low`` (a y axis grows upwards on screen).
    """

    domain_low: float
    domain_high: float
    pixel_low: float
    pixel_high: float

    def __post_init__(self) -> None:
        if not self.domain_high > self.domain_low:
            raise ValueError(f"LinearScale: empty domain [{self.domain_low}, {self.domain_high}]")

    def __call__(self, value: float) -> float:
        share = (value - self.domain_low) / (self.domain_high - self.domain_low)
        return self.pixel_low + share * (self.pixel_high - self.pixel_low)


def data_extent(values: Iterable[float | None]) -> tuple[float, float] | None:
    """``(min, max)`` of the finite values, or None when there are none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return (min(finite), max(finite)) if finite else None


def format_number(value: float | None, step: float | None = None, scale_from: float | None = None) -> str:
    """A short label for ``value``: as many decimals as ``step`` needs, ``12.5k``/``3.2M`` when large.

    Args:
        value: the number (None or nan gives ``"n/a"``).
        step: the spacing between neighbouring labels; None formats with 3 significant digits.
        scale_from: the value whose size picks the suffix (an axis's largest tick, so all its labels
            share one suffix); None uses ``value`` itself.

    Returns:
        The label.
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        scale_from = None  # "0", never "0k"
    if step is None:
        value = float(f"{value:.3g}")  # round first, so 999999 becomes "1M", not "1000k"
    magnitude = abs(value if scale_from is None else scale_from)
    # Thousands start at 10k: "9500" reads better than "9.5k" next to other four-digit labels.
    for threshold, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if magnitude >= threshold:
            scaled_step = None if step is None else step / unit
            return format_number(value / unit, scaled_step, scale_from=0.0) + suffix
    if step is None:
        return f"{value:.3g}" if magnitude < 1000 else f"{value:.0f}"
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > abs(step) * 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"
