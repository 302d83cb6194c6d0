"""Plain-JSON values from results that may hold ``nan`` or infinities (strict JSON has neither), and the
one test of a usable number that the reports, the comparison and the selection share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["finite_or_none", "is_finite", "json_safe"]


def is_finite(value: Any) -> bool:
    """Whether ``value`` is a real number (not a bool, not None) that is neither ``nan`` nor infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float when ``is_finite``, else None (a score that was not measured)."""
    return float(value) if is_finite(value) else None


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None, mapping keys as strings, tuples as lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
