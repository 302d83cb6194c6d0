"""The soft-prompt stage's saved results (``result["soft"]``): schema and validation for the report.

The stage saves training curves, the gate's weights, the task vectors' cosine similarities and its
rows of the final comparison. Every section is optional (a stage stopped early saves what it has);
what is present must be well formed, and a malformed field is reported by its path, e.g.
``result.soft.gate.weights[1]: expected 3 values (one per pool prompt), got 2``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from orchestrator.report.errors import ReportError

__all__ = ["SoftResults", "validate_soft"]

_INNER_FIELD = re.compile(r"^([a-z_]+(?:\[\d+\])*): (.*)$", re.S)


class _Loose(BaseModel):
    # Newer runs may save more than this report knows; unknown keys are left out, not refused.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CurvePoint(_Loose):
    step: int
    loss: float | None
    dev: float | None = None


class Gate(_Loose):
    tasks: list[str]
    pool: list[str]
    weights: list[list[float | None]]

    @model_validator(mode="after")
    def _shape(self) -> Gate:
        if len(self.weights) != len(self.tasks):
            raise ValueError(
                f"weights: expected {len(self.tasks)} rows (one per task), got {len(self.weights)}"
            )
        for index, row in enumerate(self.weights):
            if len(row) != len(self.pool):
                expected = f"expected {len(self.pool)} values (one per pool prompt)"
                raise ValueError(f"weights[{index}]: {expected}, got {len(row)}")
        return self


class Similarity(_Loose):
    tasks: list[str]
    matrix: list[list[float | None]]

    @model_validator(mode="after")
    def _square(self) -> Similarity:
        size = len(self.tasks)
        if len(self.matrix) != size or any(len(row) != size for row in self.matrix):
            shape = f"{len(self.matrix)} x {sorted({len(r) for r in self.matrix})}"
            raise ValueError(f"matrix: expected {size} x {size} (one row and column per task), got {shape}")
        return self


class ComparisonRow(_Loose):
    name: str
    kind: Literal["discrete", "soft"]
    accuracy: float | None
    ci: list[float] | None = None
    ece: float | None = None
    objective: float | None = None
    predictions: list[str | None] | None = None

    @field_validator("ci")
    @classmethod
    def _interval(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(f"expected [low, high] with low <= high, got {value}")
        return value


class SoftResults(_Loose):
    """``result["soft"]``: every section optional."""

    curves: dict[str, list[CurvePoint]] = {}
    gate: Gate | None = None
    similarity: Similarity | None = None
    comparison: list[ComparisonRow] = []


def _where(loc: tuple[Any, ...]) -> str:
    path = "result.soft"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate_soft(raw: Any, run_id: str) -> dict[str, Any] | None:
    """Check a run's ``result["soft"]`` and return it in canonical form (nan as None).

    Args:
        raw: the saved value (None when the stage did not run).
        run_id: the run, named in errors.

    Returns:
        The validated sections as plain JSON-able data, or None when ``raw`` is None.

    Raises:
        ReportError: a malformed section, naming the run and the field's path.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ReportError(f"run {run_id}: result.soft: expected an object, got {type(raw).__name__}")
    try:
        soft = SoftResults.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where, message = _where(first["loc"]), first["msg"].removeprefix("Value error, ")
        inner = _INNER_FIELD.match(message)  # a shape check names the field inside the model
        if inner:
            where, message = f"{where}.{inner.group(1)}", inner.group(2)
        raise ReportError(f"run {run_id}: {where}: {message}") from None
    return _finite(soft.model_dump(mode="json"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
