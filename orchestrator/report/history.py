"""The search history as the report shows it: per-stage trajectories, dimensions and the Pareto front.

Everything is computed from the run store's candidate rows (raw dimension values), so a report can be
made for a run that is still going, was stopped by a budget or was killed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evaluators.dimensions import STANDARD_DIMENSIONS, Dimension, judge_dimension
from evaluators.objective import pareto_front
from orchestrator.json_safe import finite_or_none
from orchestrator.report.errors import ReportError

__all__ = ["STAGES", "dimension_catalogue", "pareto_data", "pick_pareto_dims", "stage_data"]

STAGES = (
    ("source", "Stage 1: source tasks"),
    ("target", "Stage 2: target task"),
)
_PROMPT_EXCERPT = 160


def _dimension(name: str) -> Dimension | None:
    if name in STANDARD_DIMENSIONS:
        return STANDARD_DIMENSIONS[name]
    if name.startswith("judge_") and len(name) > len("judge_"):
        return judge_dimension(name.removeprefix("judge_"))
    return None


def dimension_catalogue(candidates: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The dimensions the candidates were scored on, with direction and range where known.

    Returns:
        ``[{"name", "direction", "low", "high", "description"}]`` sorted by name; a dimension this
        version does not know has direction, low and high None.
    """
    names = sorted({name for cand in candidates for name in cand.get("scores", {})})
    out = []
    for name in names:
        dim = _dimension(name)
        out.append(
            {
                "name": name,
                "direction": dim.direction if dim else None,
                "low": dim.low if dim else None,
                "high": dim.high if dim else None,
                "description": dim.description if dim else "",
            }
        )
    return out


def _slim(cand: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": cand["id"],
        "iteration": cand["iteration"],
        "origin": cand.get("origin", ""),
        "objective": finite_or_none(cand.get("objective")),
        "scores": {k: finite_or_none(v) for k, v in sorted(cand.get("scores", {}).items())},
        "accepted": bool(cand.get("accepted")),
        "prompt": cand["prompt"],
    }


def _best_so_far(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per iteration, the candidate with the highest objective among all iterations up to it."""
    out: list[dict[str, Any]] = []
    best: Mapping[str, Any] | None = None
    for iteration in sorted({r["iteration"] for r in rows}):
        for row in (r for r in rows if r["iteration"] == iteration and r["objective"] is not None):
            if best is None or row["objective"] > best["objective"] + 1e-12:
                best = row
        if best is not None:
            out.append(
                {
                    "iteration": iteration,
                    "id": best["id"],
                    "objective": best["objective"],
                    "scores": best["scores"],
                }
            )
    return out


def stage_data(
    candidates: Sequence[Mapping[str, Any]], tasks: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """Each stage's candidates and best-so-far trajectory.

    Args:
        candidates: the run store's candidate rows.
        tasks: stage name -> the task names it searched over.

    Returns:
        ``[{"name", "label", "tasks", "candidates", "best_so_far", "iterations"}]`` for both stages
        (a stage not reached has no candidates).
    """
    out = []
    for name, label in STAGES:
        rows = [_slim(c) for c in candidates if c["stage"] == name]
        rows.sort(key=lambda r: (r["iteration"], r["id"]))
        out.append(
            {
                "name": name,
                "label": label,
                "tasks": list(tasks.get(name, [])),
                "candidates": rows,
                "best_so_far": _best_so_far(rows),
                "iterations": max((r["iteration"] for r in rows), default=None),
            }
        )
    return out


def pick_pareto_dims(
    available: Sequence[str], requested: Sequence[str] | None, weights: Mapping[str, float], run_id: str
) -> tuple[str, str] | None:
    """The two dimensions of the Pareto scatter.

    Args:
        available: dimensions the candidates have (with a known direction).
        requested: the user's choice (two names), or None for the default: accuracy and ECE when
            present, otherwise the objective's weighted dimensions, then any others.
        weights: the campaign's objective weights.
        run_id: named in errors.

    Returns:
        ``(x, y)``, or None when fewer than two dimensions are available.

    Raises:
        ReportError: a requested dimension the run does not have, or not exactly two requested.
    """
    if requested:
        if len(requested) != 2 or requested[0] == requested[1]:
            raise ReportError(
                f"--pareto: expected two different dimensions like 'accuracy,ece', got {requested}"
            )
        missing = [d for d in requested if d not in available]
        if missing:
            raise ReportError(
                f"--pareto: run {run_id} has no dimension {missing[0]!r} (available: {', '.join(available)})"
            )
        return requested[0], requested[1]
    order = ["accuracy", "ece", *weights, *available]
    chosen = [d for i, d in enumerate(order) if d in available and d not in order[:i]]
    return (chosen[0], chosen[1]) if len(chosen) >= 2 else None


def pareto_data(stages: Sequence[Mapping[str, Any]], dims: tuple[str, str] | None) -> dict[str, Any] | None:
    """Points and 2-D Pareto front per stage on the dimensions ``dims`` (raw values).

    Returns:
        ``{"x", "y", "x_direction", "y_direction", "groups": [{"stage", "label", "points", "front"}]}``
        where ``front`` indexes ``points``; None when ``dims`` is None.
    """
    if dims is None:
        return None
    directions = [_dimension(d).direction for d in dims]  # type: ignore[union-attr]
    groups = []
    for stage in stages:
        points = []
        for cand in stage["candidates"]:
            x, y = cand["scores"].get(dims[0]), cand["scores"].get(dims[1])
            if x is not None and y is not None:
                excerpt = cand["prompt"][:_PROMPT_EXCERPT]
                points.append(
                    {"id": cand["id"], "iteration": cand["iteration"], "x": x, "y": y, "prompt": excerpt}
                )
        front = pareto_front([(p["x"], p["y"]) for p in points], directions) if points else []
        groups.append({"stage": stage["name"], "label": stage["label"], "points": points, "front": front})
    return {
        "x": dims[0],
        "y": dims[1],
        "x_direction": directions[0],
        "y_direction": directions[1],
        "groups": groups,
    }
