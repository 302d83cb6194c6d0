"""The soft-prompt stage's saved results (``result["soft"]``): validation for the report.

The schema lives with its producer, :mod:`orchestrator.soft.results`.

The stage saves training curves, the gate's weights, the task vectors' cosine similarities and its
rows of the final comparison. Every section is optional (a stage stopped early saves what it has);
what is present must be well formed, and a malformed field is reported by its path, e.g.
``result.soft.gate.weights[1]: expected 3 values (one per pool prompt), got 2``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from orchestrator.json_safe import json_safe
from orchestrator.report.errors import ReportError
from orchestrator.soft.results import SoftResults

__all__ = ["SoftResults", "validate_soft"]

_INNER_FIELD = re.compile(r"^([a-z_]+(?:\[\d+\])*): (.*)$", re.S)


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
    return json_safe(soft.model_dump(mode="json"))
