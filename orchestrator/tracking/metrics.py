"""What a run becomes in MLflow: params from the resolved config, metrics per round and at the end.

Pure functions of our own records; nothing here imports MLflow.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_KEY", "MAX_VALUE", "final_metrics", "flatten_params", "metric_key", "round_metrics"]

# MLflow's limits (mlflow.utils.validation): a param value of at most 6000 characters, keys of 250.
MAX_VALUE = 6000
MAX_KEY = 250
_TRUNCATED = " ...[truncated]"


def flatten_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The resolved config as MLflow params: ``{"search.stage1_iterations": "3", ...}``.

    Lists and other non-mappings are JSON; a value longer than MLflow's limit is cut and marked
    (the full config stays in the run store). Secrets are never in the resolved config (only the
    names of the environment variables holding them).
    """
    params: dict[str, str] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            params.update(flatten_params(value, path))
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        if len(text) > MAX_VALUE:
            text = text[: MAX_VALUE - len(_TRUNCATED)] + _TRUNCATED
        params[path[:MAX_KEY]] = text
    return params


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts: the parts joined by dots, other characters made underscores."""
    cleaned = [re.sub(r"[^A-Za-z0-9_\-]+", "_", part).strip("_") or "_" for part in parts]
    return ".".join(cleaned)[:MAX_KEY]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def round_metrics(selected: Mapping[str, Any], spent: tuple[int, int, float]) -> dict[str, float]:
    """One search round (a ``selected`` event) as metrics: the stage's best objective and dimensions,
    and the calls, tokens and USD spent so far (cache hits excluded)."""
    stage = str(selected.get("stage", "search"))
    metrics = {metric_key("round", stage, "objective"): selected.get("best_objective")}
    for name, value in (selected.get("best_scores") or {}).items():
        metrics[metric_key("round", stage, name)] = value
    calls, tokens, usd = spent
    metrics.update({"round.calls": calls, "round.tokens": tokens, "round.usd": usd})
    return {k: float(v) for k, v in metrics.items() if _finite(v)}


def final_metrics(final: Mapping[str, Any] | None, soft: Mapping[str, Any] | None) -> dict[str, float]:
    """The final held-out comparison as metrics: ``test.winner.balanced_accuracy`` with ``_lo`` and
    ``_hi`` (the bootstrap interval), one prefix per contender (baseline, stage1_best, winner, soft
    prompts, majority class, ...), plus the winner's confirmation objective on dev."""
    from orchestrator.comparison import final_comparison

    comparison = final_comparison(final, soft)
    metrics: dict[str, Any] = {"test.n": comparison["n"]} if comparison["rows"] else {}
    for row in comparison["rows"]:
        # Trivial rows are named "majority: always 'no' (12/24)": their key is the part before ':'.
        trivial = row.get("kind") == "trivial"
        for name in row.get("keys") or [row["name"].split(":", 1)[0] if trivial else row["name"]]:
            metrics[metric_key("test", name, "objective")] = row.get("objective")
            for metric, value in (row.get("scores") or {}).items():
                metrics[metric_key("test", name, metric)] = value
                bounds = (row.get("intervals") or {}).get(metric)
                if bounds and len(bounds) == 2:
                    metrics[metric_key("test", name, metric + "_lo")] = bounds[0]
                    metrics[metric_key("test", name, metric + "_hi")] = bounds[1]
    winner = (final or {}).get("winner") or {}
    metrics["dev.winner.objective"] = winner.get("objective")
    return {k: float(v) for k, v in metrics.items() if _finite(v)}
