"""The final comparison on the held-out test split: one row per distinct contender, plus trivial baselines.

The CLI's closing table, ``promptfusion show`` and the report (HTML, Markdown, JSON) all render the
rows built here, so they agree. Each row carries its label metrics with bootstrap intervals, a flag
when it answers one label for (nearly) every example, and a worded verdict against its reference:

* discrete prompts (the best stage-1 and stage-2 prompts) against the baseline prompt;
* soft prompts against the best discrete prompt (the stage-2 winner);
* the majority-class and uniform-random rates of the same split, as rows of their own.

A verdict says "improved" only when the paired bootstrap interval of the difference (same examples)
excludes zero. Prompts that are the same text share one row (the winner is often the stage-1 best).
The rows are computed from the per-example answers saved with the test results, seeded, so every
rendering of a run gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evaluators import bootstrap_metric_ci, compare_predictions, dominant_answer, trivial_baselines
from evaluators.label_rows import LABEL_ROW_METRICS, encode_labels, label_metric_rows
from orchestrator.json_safe import is_finite

__all__ = ["DISCRETE_ROWS", "columns", "final_comparison", "headline_metric", "row_cells"]

#: Test-split contenders of the discrete search, in the order they are shown, with their names.
DISCRETE_ROWS = (
    ("baseline", "baseline prompt"),
    ("stage1_best", "best stage-1 prompt"),
    ("winner", "best stage-2 prompt"),
)

_LABEL_METRICS = ("balanced_accuracy", "macro_f1", "accuracy")


def headline_metric(weights: Mapping[str, float]) -> str:
    """The label metric verdicts are worded on: the objective's heaviest label metric.

    Falls back to ``balanced_accuracy`` (a constant answer scores exactly chance on it).
    """
    weighted = [(w, name) for name, w in weights.items() if name in _LABEL_METRICS and w > 0]
    return (
        max(weighted, key=lambda pair: (pair[0], -_LABEL_METRICS.index(pair[1])))[1]
        if weighted
        else ("balanced_accuracy")
    )


def final_comparison(
    final: Mapping[str, Any] | None,
    soft: Mapping[str, Any] | None,
    *,
    metric: str | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Rows of the final held-out comparison.

    Args:
        final: the run's ``final`` section (``test``: name -> aggregated result with ``per_task``).
        soft: the soft-prompt stage's report (its ``comparison`` rows of kind ``soft``), or None.
        metric: the label metric the verdicts compare; default ``final["metric"]`` (saved by the
            test step from the objective, see ``headline_metric``), else ``balanced_accuracy``.
        seed: seeds every bootstrap; default ``final["seed"]``, else 0.

    Returns:
        ``{"metric", "n", "rows"}``; each row has ``name``, ``kind`` (``discrete``, ``soft`` or
        ``trivial``), ``prompt``, ``objective``, ``scores`` and ``intervals`` (metric -> value /
        ``[low, high]``), ``degenerate`` (``"answers 'x' for 58/60"`` or None) and ``verdict``
        (``{"kind", "text", "reference", "metric"}`` or None). Empty rows before the test step.
    """
    test = (final or {}).get("test") or {}
    metric = metric or (final or {}).get("metric") or "balanced_accuracy"
    seed = int((final or {}).get("seed", 0) if seed is None else seed)
    rows: list[dict[str, Any]] = []
    by_prompt: dict[str, dict[str, Any]] = {}
    split: Mapping[str, Any] = {}
    for key, name in DISCRETE_ROWS:
        if key not in test:
            continue
        entry = test[key]
        task = _first_task(entry)
        split = split or task
        prompt = entry.get("prompt")
        known = by_prompt.get(prompt) if prompt is not None else None
        if known is not None:  # the same text as an earlier contender: one row, both names
            known["name"] += f" = {name}"
            known["keys"].append(key)
            continue
        row = _discrete_row(name, entry, task, seed)
        row["keys"] = [key]
        if prompt is not None:
            by_prompt[prompt] = row
        rows.append(row)
    for soft_row in (soft or {}).get("comparison", []):
        if soft_row.get("kind") == "soft":
            rows.append(_soft_row(soft_row, split, seed))
    _add_verdicts(rows, split, metric, seed)
    rows += _trivial_rows(split, seed)
    return {"metric": metric, "n": len(split.get("targets") or []), "rows": rows}


def _first_task(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    for task in (entry.get("per_task") or {}).values():
        return task
    return entry


def _label_scores(
    predictions: Sequence[str | None], split: Mapping[str, Any], seed: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    labels, targets = split["labels"], split["targets"]
    gold, predicted = encode_labels(targets, labels), encode_labels(predictions, labels)
    scores, intervals = {}, {}
    for i, name in enumerate(LABEL_ROW_METRICS):

        def on(indices, name: str = name) -> float:
            return float(label_metric_rows(gold[indices], predicted[indices], len(labels), name)[0])

        ci = bootstrap_metric_ci(on, len(targets), n_resamples=1000, seed=seed + i)
        scores[name] = ci.estimate
        intervals[name] = [ci.low, ci.high]
    return scores, intervals


def _has_answers(entry: Mapping[str, Any], split: Mapping[str, Any]) -> bool:
    return bool(entry.get("predictions")) and bool(split.get("labels")) and bool(split.get("targets"))


def _discrete_row(name: str, entry: Mapping[str, Any], task: Mapping[str, Any], seed: int) -> dict[str, Any]:
    scores = {k: v for k, v in (entry.get("scores") or {}).items() if is_finite(v)}
    intervals = dict(task.get("intervals") or {})
    if _has_answers(task, task):
        # The saved scores and intervals (the evaluator's own) win; the rest comes from the answers.
        label_scores, label_intervals = _label_scores(task["predictions"], task, seed)
        scores = {**label_scores, **scores}
        intervals = {**label_intervals, **intervals}
    return {
        "name": name,
        "kind": "discrete",
        "prompt": entry.get("prompt"),
        "objective": entry.get("objective"),
        "scores": scores,
        "intervals": intervals,
        "degenerate": task.get("degenerate") or _flag(task.get("predictions")),
        "predictions": task.get("predictions"),
        "verdict": None,
    }


def _soft_row(row: Mapping[str, Any], split: Mapping[str, Any], seed: int) -> dict[str, Any]:
    if row.get("not_run"):  # a contender that could not be built: no numbers, the reason instead
        return {
            "name": row["name"],
            "kind": "soft",
            "prompt": None,
            "objective": None,
            "scores": {},
            "intervals": {},
            "degenerate": None,
            "predictions": None,
            "verdict": None,
            "not_run": row["not_run"],
        }
    scores = {"accuracy": row.get("accuracy")}
    intervals = {"accuracy": row.get("ci")} if row.get("ci") else {}
    if is_finite(row.get("ece")):
        scores["ece"] = row["ece"]
    predictions = row.get("predictions")
    if predictions and _has_answers(row, split) and len(predictions) == len(split["targets"]):
        label_scores, label_intervals = _label_scores(predictions, split, seed)
        scores.update(label_scores)
        intervals.update(label_intervals)
    # The evaluator's own scores and intervals win, as for the discrete rows: same answers, same numbers.
    scores.update({k: v for k, v in (row.get("scores") or {}).items() if is_finite(v)})
    intervals.update(row.get("intervals") or {})
    return {
        "name": row["name"],
        "kind": "soft",
        "prompt": None,
        "objective": None,
        "scores": scores,
        "intervals": intervals,
        "degenerate": _flag(predictions),
        "note": row.get("note"),
        "predictions": predictions,
        "verdict": None,
    }


def _flag(predictions: Sequence[str | None] | None) -> str | None:
    dominant = dominant_answer(list(predictions)) if predictions else None
    return dominant.text if dominant is not None else None


def _add_verdicts(rows: list[dict[str, Any]], split: Mapping[str, Any], metric: str, seed: int) -> None:
    if not split.get("labels") or not split.get("targets"):
        return
    baseline = next((r for r in rows if "baseline" in r.get("keys", ())), None)
    winner = next((r for r in rows if "winner" in r.get("keys", ())), None)
    for row in rows:
        reference = baseline if row["kind"] == "discrete" else winner
        reference_name = "baseline prompt" if row["kind"] == "discrete" else "best discrete prompt"
        if reference is None or reference is row or not row["predictions"] or not reference["predictions"]:
            continue
        if len(row["predictions"]) != len(reference["predictions"]):
            continue
        result = compare_predictions(
            row["predictions"],
            reference["predictions"],
            split["targets"],
            split["labels"],
            metric=metric,
            reference_name=reference_name,
            seed=seed,
        )
        row["verdict"] = {
            "kind": result.kind,
            "text": result.text,
            "reference": reference_name,
            "metric": metric,
        }


def _trivial_rows(split: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    if not split.get("labels") or not split.get("targets"):
        return []
    out = []
    for baseline in trivial_baselines(split["targets"], split["labels"], seed=seed):
        out.append(
            {
                "name": f"{baseline.name}: {baseline.description}",
                "kind": "trivial",
                "prompt": None,
                "objective": None,
                "scores": dict(baseline.scores),
                "intervals": {k: list(v) for k, v in baseline.intervals.items()},
                "degenerate": None,
                "predictions": None,
                "verdict": None,
            }
        )
    return out


def columns(metric: str) -> list[str]:
    """Headers of the comparison table; the verdict column names ``metric`` (what it compares)."""
    name = _LABEL_NAMES.get(metric, metric)
    return [
        "contender",
        "kind",
        "balanced acc. [95% CI]",
        "accuracy [95% CI]",
        "macro-F1",
        "ECE",
        f"vs reference ({name})",
        "note",
    ]


_LABEL_NAMES = {"balanced_accuracy": "balanced acc.", "macro_f1": "macro-F1", "accuracy": "accuracy"}


def row_cells(row: Mapping[str, Any], metric: str) -> list[str]:
    """Text cells of one comparison row, in ``columns(metric)`` order (``n/a`` where unknown)."""
    scores, intervals = row.get("scores") or {}, row.get("intervals") or {}
    verdict = row.get("verdict")
    return [
        str(row["name"]),
        str(row["kind"]),
        _with_interval(scores.get("balanced_accuracy"), intervals.get("balanced_accuracy")),
        _with_interval(scores.get("accuracy"), intervals.get("accuracy")),
        _number(scores.get("macro_f1")),
        _number(scores.get("ece")),
        f"{verdict['text']} vs {verdict['reference']}" if verdict else "",
        f"not run: {row['not_run']}" if row.get("not_run") else _note(row),
    ]


def _note(row: Mapping[str, Any]) -> str:
    return "; ".join(part for part in (row.get("note"), row.get("degenerate")) if part)


def _with_interval(value: Any, bounds: Sequence[float] | None) -> str:
    if not is_finite(value):
        return "n/a"
    if not bounds or not all(is_finite(b) for b in bounds):
        return f"{value:.3f}"
    return f"{value:.3f} [{bounds[0]:.2f}, {bounds[1]:.2f}]"


def _number(value: Any) -> str:
    return f"{value:.3f}" if is_finite(value) else "n/a"
