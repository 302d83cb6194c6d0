"""The report's plots, each drawn from the gathered report data (``data.gather_report``).

Every function takes a part of that dict and returns one SVG string; ``all_plots`` returns them all
by key. Plot keys (the ``data-plot`` attribute) are stable: tests and docs refer to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.report.colors import DIVERGING, SEQUENTIAL, series_color
from orchestrator.report.heatmap import heatmap
from orchestrator.report.svg import (
    IntervalRow,
    ScatterGroup,
    ScatterPoint,
    Series,
    empty_plot,
    interval_chart,
    line_chart,
    scatter_chart,
)

__all__ = [
    "all_plots",
    "comparison_plot",
    "dimension_plot",
    "gate_plot",
    "objective_plot",
    "pareto_plot",
    "similarity_plot",
    "soft_curve_plots",
    "usage_plots",
]

_ORIGIN_COLORS = {"baseline": "#9c755f", "promoted": "#59a14f", "proposed": "#4e79a7"}
_DISCRETE_COLOR, _SOFT_COLOR = "#4e79a7", "#f28e2b"


def objective_plot(stage: Mapping[str, Any]) -> str:
    """Each candidate's objective by iteration (dots by origin) and the best so far (a step line)."""
    key, title = f"objective-{stage['name']}", f"{stage['label']}: objective per iteration"
    if not stage["candidates"]:
        return empty_plot(key, title, "stage not reached")
    best = [(b["iteration"], b["objective"]) for b in stage["best_so_far"]]
    series = [Series("best so far", best, color="#e15759", step=True, markers=False)]
    for origin in sorted({c["origin"] for c in stage["candidates"]}):
        points = [(c["iteration"], c["objective"]) for c in stage["candidates"] if c["origin"] == origin]
        color = _ORIGIN_COLORS.get(origin, series_color(len(series) + 3))
        series.append(Series(f"{origin} candidates", points, color=color, lines=False))
    return line_chart(key, title, series, x_label="iteration", y_label="objective", integer_x=True)


def _scaled(value: float | None, dim: Mapping[str, Any]) -> float | None:
    if value is None or dim.get("low") is None:
        return value
    return (value - dim["low"]) / (dim["high"] - dim["low"])


def dimension_plot(stage: Mapping[str, Any], dimensions: Sequence[Mapping[str, Any]]) -> str:
    """The best-so-far candidate's raw value on every dimension, by iteration.

    Dimensions whose range is not [0, 1] (LLM judges' 1-5) are scaled onto [0, 1] by their range.
    """
    key, title = f"dimensions-{stage['name']}", f"{stage['label']}: dimensions of the best so far"
    if not stage["best_so_far"]:
        return empty_plot(key, title, "stage not reached")
    series = []
    for index, dim in enumerate(dimensions):
        arrow = {"max": " ↑", "min": " ↓"}.get(dim["direction"] or "", "")
        scaled = dim.get("low") not in (None, 0.0) or dim.get("high") not in (None, 1.0)
        name = dim["name"] + arrow + (f" ({dim['low']:g}-{dim['high']:g})" if scaled else "")
        points = [(b["iteration"], _scaled(b["scores"].get(dim["name"]), dim)) for b in stage["best_so_far"]]
        series.append(Series(name, points, color=series_color(index)))
    return line_chart(
        key,
        title,
        series,
        x_label="iteration",
        y_label="value (↑/↓: better)",
        y_domain=(0, 1),
        integer_x=True,
    )


def pareto_plot(pareto: Mapping[str, Any] | None) -> str:
    """The candidates on two dimensions, each stage's 2-D Pareto front ringed and joined."""
    title = "Pareto front"
    if pareto is None:
        return empty_plot("pareto", title, "fewer than two scored dimensions")
    groups = []
    for group in pareto["groups"]:
        points = [
            ScatterPoint(p["x"], p["y"], f"{p['id']} (iteration {p['iteration']}): {p['prompt']}")
            for p in group["points"]
        ]
        groups.append(ScatterGroup(group["label"], points, front=group["front"]))
    better = {"max": "higher is better", "min": "lower is better"}
    x_label = f"{pareto['x']} ({better[pareto['x_direction']]})"
    y_label = f"{pareto['y']} ({better[pareto['y_direction']]})"
    title = f"Pareto front: {pareto['x']} vs {pareto['y']}"
    return scatter_chart("pareto", title, groups, x_label=x_label, y_label=y_label, width=820, height=380)


def _time_axis(timeline: Sequence[Mapping[str, Any]]) -> tuple[float, str]:
    last = timeline[-1]["t"] if timeline else 0.0
    if last > 3 * 3600:
        return 3600.0, "hours since the first call"
    if last > 600:
        return 60.0, "minutes since the first call"
    return 1.0, "seconds since the first call"


def usage_plots(usage: Mapping[str, Any]) -> dict[str, str]:
    """Cumulative calls and cache hits, tokens and USD over the run's time."""
    timeline = usage["timeline"]
    unit, x_label = _time_axis(timeline)

    def points(field: str) -> list[tuple[float, float]]:
        return [(p["t"] / unit, p[field]) for p in timeline]

    calls = [
        Series("LLM calls", points("calls"), color="#4e79a7", step=True, markers=False),
        Series("answered from cache", points("cache_hits"), color="#59a14f", step=True, markers=False),
    ]
    tokens = [Series("tokens", points("tokens"), color="#b07aa1", step=True, markers=False)]
    spend = [Series("USD", points("usd"), color="#e15759", step=True, markers=False)]
    zero = (0.0, 0.0)  # cumulative counts: the y axis starts at zero
    return {
        "calls": line_chart(
            "calls", "Cumulative LLM calls", calls, x_label=x_label, y_label="calls", y_domain=zero
        ),
        "tokens": line_chart(
            "tokens",
            "Cumulative tokens (prompt + completion; cache hits cost none)",
            tokens,
            x_label=x_label,
            y_label="tokens",
            y_domain=zero,
        ),
        "spend": line_chart(
            "spend", "Cumulative spend (USD)", spend, x_label=x_label, y_label="USD", y_domain=zero
        ),
    }


def soft_curve_plots(soft: Mapping[str, Any]) -> dict[str, str]:
    """Soft-prompt training loss and dev score per step, one line per trained prompt."""
    curves = soft.get("curves") or {}
    loss = [
        Series(name, [(p["step"], p["loss"]) for p in points], markers=False)
        for name, points in curves.items()
    ]
    dev = [
        Series(name, [(p["step"], p["dev"]) for p in points if p["dev"] is not None])
        for name, points in curves.items()
        if any(p["dev"] is not None for p in points)
    ]
    return {
        "soft-loss": line_chart(
            "soft-loss", "Soft-prompt training loss", loss, x_label="step", y_label="loss", integer_x=True
        ),
        "soft-dev": line_chart(
            "soft-dev", "Soft-prompt dev score", dev, x_label="step", y_label="dev score", integer_x=True
        ),
    }


def gate_plot(gate: Mapping[str, Any] | None) -> str:
    """The fusion gate's weights: one row per task, one column per prompt in the pool."""
    title = "Gate weights (tasks × prompt pool)"
    if not gate:
        return empty_plot("gate", title, "no gate weights saved")
    return heatmap(
        "gate",
        title,
        gate["tasks"],
        gate["pool"],
        gate["weights"],
        domain=(0.0, 1.0),
        color_map=SEQUENTIAL,
        x_label="prompt pool",
        y_label="task",
    )


def similarity_plot(similarity: Mapping[str, Any] | None) -> str:
    """Cosine similarity between the task prompt vectors, on a diverging scale over [-1, 1]."""
    title = "Task prompt vectors: cosine similarity"
    if not similarity:
        return empty_plot("similarity", title, "no similarities saved")
    tasks = similarity["tasks"]
    if not tasks:
        untrained = ", ".join(similarity.get("untrained", []))
        return empty_plot("similarity", title, f"no task vector: not trained past their start ({untrained})")
    return heatmap(
        "similarity", title, tasks, tasks, similarity["matrix"], domain=(-1.0, 1.0), color_map=DIVERGING
    )


def comparison_plot(comparison: Sequence[Mapping[str, Any]], metric: str = "accuracy") -> str:
    """Held-out ``metric`` of every contender with its interval; trivial baselines as reference lines."""
    rows, lines = [], []
    for row in comparison:
        value = (row.get("scores") or {}).get(metric, row.get("accuracy") if metric == "accuracy" else None)
        bounds = (row.get("intervals") or {}).get(metric) or (row.get("ci") if metric == "accuracy" else None)
        if row["kind"] == "trivial":
            lines.append((row["name"].split(":")[0], value))
            continue
        if row.get("not_run"):  # nothing was measured: the table says why
            continue
        low, high = bounds if bounds else (None, None)
        color = _SOFT_COLOR if row["kind"] == "soft" else _DISCRETE_COLOR
        rows.append(IntervalRow(row["name"], value, low, high, color))
    merged: dict[float, str] = {}  # balanced accuracy puts both at 1/k: one line, both names
    for label, value in lines:
        if value is not None:
            merged[round(value, 6)] = (
                f"{merged[round(value, 6)]} = {label}" if round(value, 6) in merged else label
            )
    lines = [(label, value) for value, label in merged.items()]
    name = metric.replace("_", " ")
    title = f"Held-out test {name} (95% CI); dashed: majority class and random answers"
    return interval_chart("comparison", title, rows, x_label=name, reference_lines=lines)


def all_plots(report: Mapping[str, Any]) -> dict[str, str]:
    """Every plot of the report by key (the soft-prompt ones only when that stage ran)."""
    plots = {}
    for stage in report["stages"]:
        plots[f"objective-{stage['name']}"] = objective_plot(stage)
        plots[f"dimensions-{stage['name']}"] = dimension_plot(stage, report["dimensions"])
    plots["pareto"] = pareto_plot(report["pareto"])
    plots.update(usage_plots(report["usage"]))
    if report["soft"]:
        plots.update(soft_curve_plots(report["soft"]))
        plots["gate"] = gate_plot(report["soft"].get("gate"))
        plots["similarity"] = similarity_plot(report["soft"].get("similarity"))
    plots["comparison"] = comparison_plot(report["comparison"], report.get("comparison_metric", "accuracy"))
    return plots
