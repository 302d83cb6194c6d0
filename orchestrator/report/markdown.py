"""The run report as Markdown (``--format md``): the report's tables and prompts, without plots.

Markdown renderers pass raw HTML through, so every table cell is HTML-escaped as well as having its
pipes escaped; prompts go in fenced blocks whose fence is longer than any backtick run inside them.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.comparison import columns, row_cells
from orchestrator.operators import operator_summary

__all__ = ["render_markdown"]


def _cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    text = html.escape(" ".join(str(value).split()), quote=False)
    return text.replace("|", "\\|")


def _ci(interval: Sequence[float] | None) -> str:
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "n/a"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += [
        "| " + " | ".join(_cell(v) if not isinstance(v, str) else v for v in row) + " |" for row in rows
    ]
    return lines + [""]


def _fence(text: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", text, fence, ""]


def _stages(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Search progress", ""]
    rows = []
    for stage in report["stages"]:
        best = stage["best_so_far"][-1]["objective"] if stage["best_so_far"] else None
        rows.append(
            [
                _cell(stage["label"]),
                _cell(", ".join(stage["tasks"])),
                len(stage["candidates"]),
                stage["iterations"],
                best,
            ]
        )
    lines += _table(["stage", "tasks", "candidates", "iterations", "best objective"], rows)
    dims = [d["name"] for d in report["dimensions"]]
    for stage in report["stages"]:
        if not stage["best_so_far"]:
            continue
        lines += [f"### {_cell(stage['label'])}: best so far by iteration", ""]
        rows = [
            [b["iteration"], b["objective"], *(b["scores"].get(d) for d in dims)]
            for b in stage["best_so_far"]
        ]
        lines += _table(["iteration", "objective", *dims], rows)
    return lines


def _pareto(report: Mapping[str, Any]) -> list[str]:
    pareto = report["pareto"]
    if not pareto:
        return []
    better = {"max": "higher is better", "min": "lower is better"}
    x, y = pareto["x"], pareto["y"]
    lines = [
        f"## Pareto front: {x} ({better[pareto['x_direction']]}) vs {y} ({better[pareto['y_direction']]})",
        "",
        "Candidates no other candidate of their stage beats on both dimensions.",
        "",
    ]
    rows = [
        [_cell(group["label"]), _cell(point["id"]), point["x"], point["y"], _cell(point["prompt"][:80])]
        for group in pareto["groups"]
        for point in (group["points"][i] for i in group["front"])
    ]
    return lines + _table(["stage", "candidate", pareto["x"], pareto["y"], "prompt (start)"], rows)


def _usage(report: Mapping[str, Any]) -> list[str]:
    rows = [
        [
            _cell(role),
            u["calls"],
            u["cache_hits"],
            u["prompt_tokens"] + u["completion_tokens"],
            f"${u['cost_usd']:.4f}",
        ]
        for role, u in report["usage"]["by_role"].items()
    ]
    notes = [f"- {_cell(note)}" for note in report.get("notes", [])]
    table = _table(["role (model)", "calls", "cache hits", "tokens", "USD"], rows)
    return ["## Calls and spend", ""] + table + (notes + [""] if notes else [])


def _soft(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Soft prompts", ""]
    soft = report["soft"]
    if not soft:
        return lines + [f"_{_cell(report['soft_note'])}_", ""]
    curves = soft.get("curves") or {}
    if curves:
        rows = [
            [_cell(name), len(points), points[-1]["loss"], points[-1]["dev"]]
            for name, points in curves.items()
        ]
        lines += ["### Training curves (last step)", ""] + _table(["prompt", "steps", "loss", "dev"], rows)
    gate = soft.get("gate")
    if gate:
        rows = [[_cell(task), *weights] for task, weights in zip(gate["tasks"], gate["weights"], strict=True)]
        lines += ["### Gate weights", ""] + _table(["task", *(_cell(p) for p in gate["pool"])], rows)
    similarity = soft.get("similarity")
    if similarity:
        tasks = similarity["tasks"]
        rows = [[_cell(task), *row] for task, row in zip(tasks, similarity["matrix"], strict=True)]
        lines += ["### Task vectors: cosine similarity", ""] + _table(["", *(_cell(t) for t in tasks)], rows)
        if similarity.get("untrained"):
            left_out = ", ".join(_cell(t) for t in similarity["untrained"])
            lines += [f"Not trained past its start (zero task vector, left out): {left_out}", ""]
    return lines


def _comparison(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Final comparison (held-out test)", ""]
    if not report["comparison"]:
        answer = report.get("answer")
        if answer:
            best = f"Best prompt so far (objective {_cell(answer.get('objective'))}; {answer['measured']}):"
            return lines + ["_No held-out comparison yet._", "", best, "", *_fence(answer["prompt"])]
        return lines + ["_No held-out comparison yet._", ""]
    metric = report["comparison_metric"]
    lines += [
        f"{report['comparison_n']} examples; intervals are 95% bootstrap intervals; a verdict says "
        "'improved' only when the paired interval of the difference excludes zero; trivial rows are "
        "what a constant or random answer scores on the same split.",
        "",
    ]
    rows = [[_cell(c) for c in row_cells(r, metric)] for r in report["comparison"]]
    return lines + _table([_cell(c) for c in columns(metric)], rows) + _operators(report)


def _operators(report: Mapping[str, Any]) -> list[str]:
    rows = report.get("operators") or {}
    if not rows:
        return []
    parts = [operator_summary(name, row) for name, row in rows.items()]
    return ["", "Candidates per operator: " + ", ".join(parts) + ".", ""]


def _prompts(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Winning prompts", ""]
    for row in report["prompts"]:
        scores = [f"dev objective {row['dev_objective']:.3f}"] if row["dev_objective"] is not None else []
        if row["test_objective"] is not None:
            scores.append(f"held-out objective {row['test_objective']:.3f}")
        lines += [f"### {_cell(row['role'])}", "", ", ".join(scores), ""] + _fence(row["prompt"])
    return lines


def render_markdown(report: Mapping[str, Any]) -> str:
    """Render gathered report data (``gather_report``) as Markdown.

    Args:
        report: the dict from ``orchestrator.report.data.gather_report``.

    Returns:
        The Markdown text.
    """
    run = report["run"]
    started = dt.datetime.fromtimestamp(run["created"], tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# promptfusion report: {_cell(run['name'])}",
        "",
        f"run `{run['run_id']}` · **{_cell(run['status'])}** · seed {run['seed']} · started {started}",
        "",
        _cell(run["message"] or ""),
        "",
    ]
    if report.get("scoring"):
        lines += [f"scoring: {_cell(report['scoring'])}", ""]
    for part in (_stages, _pareto, _usage, _soft, _comparison, _prompts):
        lines += part(report)
    return "\n".join(lines).rstrip() + "\n"
