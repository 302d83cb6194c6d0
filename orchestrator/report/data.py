"""Everything a run report shows, gathered from the run store into one JSON-able dict.

The HTML, Markdown and JSON formats all render this one dict, so they cannot disagree. It is built
from the store's tables (runs, candidates, llm_calls, events) and the run's saved result; a run that
has not finished yet gets a report of what it has so far.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orchestrator.comparison import final_comparison
from orchestrator.json_safe import json_safe
from orchestrator.report.history import (
    dimension_catalogue,
    pareto_data,
    pick_pareto_dims,
    stage_data,
)
from orchestrator.report.redact import redact_config
from orchestrator.report.soft import validate_soft
from orchestrator.store import RunStore

__all__ = ["SCHEMA_VERSION", "gather_report"]

SCHEMA_VERSION = 1
# Events whose ``note`` the report shows as is: data changed at load, spend not fully limited.
NOTE_EVENTS = ("data", "unpriced", "soft_warning", "scoring_note")
# Enough points for a smooth cumulative curve; a long run's thousands of calls would bloat the page.
_MAX_TIMELINE_POINTS = 400


def gather_report(
    store: RunStore,
    run_id: str,
    *,
    pareto_dims: Sequence[str] | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Collect a run's report data.

    Args:
        store: the run store holding the run.
        run_id: the run.
        pareto_dims: the two dimensions of the Pareto scatter (default: accuracy and ECE when scored).
        clock: for the ``generated`` timestamp.

    Returns:
        A JSON-able dict (no nan; see ``docs/report.md`` for its keys).

    Raises:
        RunNotFound: no such run in the store.
        ReportError: malformed saved results, or an unknown ``pareto_dims`` entry.
    """
    summary = store.run(run_id)
    config = redact_config(store.config(run_id))
    result = store.result(run_id) or {}
    candidates = store.candidates(run_id)
    tasks_cfg = config.get("tasks", {})
    tasks = {
        "source": [t["name"] for t in tasks_cfg.get("source", [])],
        "target": [tasks_cfg["target"]["name"]] if tasks_cfg.get("target") else [],
    }
    dimensions = dimension_catalogue(candidates)
    stages = stage_data(candidates, tasks)
    weights = config.get("objective", {}).get("weights", {})
    known = [d["name"] for d in dimensions if d["direction"]]
    dims = pick_pareto_dims(known, pareto_dims, weights, run_id)
    raw_soft = result.get("soft")
    skipped = raw_soft.get("skipped") if isinstance(raw_soft, Mapping) else None
    soft = None if skipped else validate_soft(raw_soft, run_id)
    events = store.events(run_id)
    calls = store.calls_over_time(run_id)
    # The last event or call, not runs.updated: saving a result later (the soft stage) moves that.
    last_activity = max([e["ts"] for e in events] + [c[0] for c in calls], default=summary.updated)
    return json_safe(
        {
            "schema_version": SCHEMA_VERSION,
            "generated": clock(),
            "run": {**summary.__dict__, "last_activity": last_activity, "store": str(store.path)},
            "config": config,
            "objective": config.get("objective", {}),
            "dimensions": dimensions,
            "stages": stages,
            "pareto": pareto_data(stages, dims),
            "usage": _usage(store.usage(run_id), calls),
            "events": dict(sorted(Counter(e["kind"] for e in events).items())),
            "scoring": next((e["description"] for e in reversed(events) if e["kind"] == "scoring"), None),
            "notes": [
                e.get("note") or e["message"]
                for e in events
                if e["kind"] in NOTE_EVENTS and ("note" in e or "message" in e)
            ],
            "final": _final(result.get("final")),
            "answer": result.get("answer"),
            "operators": (result.get("final") or {}).get("operators"),
            **_comparison_fields(result.get("final"), soft),
            "prompts": _prompts(result, stages),
            "soft": soft,
            "soft_note": None
            if soft
            else (f"soft-prompt stage not run: {skipped}" if skipped else _soft_note(config, summary.status)),
        }
    )


def _usage(by_role: Mapping[str, Mapping[str, float]], calls: Sequence[Sequence[float]]) -> dict[str, Any]:
    totals = {
        key: sum(u[key] for u in by_role.values())
        for key in ("calls", "cache_hits", "prompt_tokens", "completion_tokens", "cost_usd", "errors")
    }
    start = calls[0][0] if calls else 0.0
    timeline = []
    n_calls = hits = tokens = usd = 0.0
    for ts, cache_hit, call_tokens, cost in calls:
        n_calls += 1
        hits += cache_hit
        tokens += call_tokens
        usd += cost
        timeline.append({"t": ts - start, "calls": n_calls, "cache_hits": hits, "tokens": tokens, "usd": usd})
    return {"by_role": by_role, "totals": totals, "timeline": _thin(timeline)}


def _thin(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``_MAX_TIMELINE_POINTS`` evenly spaced points, always keeping the first and the last."""
    if len(points) <= _MAX_TIMELINE_POINTS:
        return points
    stride = (len(points) - 1) / (_MAX_TIMELINE_POINTS - 1)
    return [points[round(i * stride)] for i in range(_MAX_TIMELINE_POINTS)]


def _final(final: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not final:
        return None
    slim = {
        k: {kk: vv for kk, vv in v.items() if kk != "per_task"} for k, v in (final.get("test") or {}).items()
    }
    return {
        "winner": {k: v for k, v in (final.get("winner") or {}).items() if k != "per_task"},
        "finalists": [{k: v for k, v in f.items() if k != "per_task"} for f in final.get("finalists", [])],
        "test": slim,
    }


def _intervals(row: Mapping[str, Any]) -> dict[str, list[float]]:
    """The held-out confidence intervals of one test row (single target task, or the first task)."""
    for task in (row.get("per_task") or {}).values():
        return dict(task.get("intervals") or {})
    return {}


def _comparison_fields(final: Mapping[str, Any] | None, soft: Mapping[str, Any] | None) -> dict[str, Any]:
    comparison = _comparison(final, soft)
    return {
        "comparison": comparison["rows"],
        "comparison_metric": comparison["metric"],
        "comparison_n": comparison["n"],
    }


def _comparison(final: Mapping[str, Any] | None, soft: Mapping[str, Any] | None) -> dict[str, Any]:
    """The final held-out comparison (``orchestrator.comparison``), rows without per-example answers.

    Each row also carries the flat fields older readers use: ``accuracy``, ``ci``, ``ece``, ``ece_ci``.
    """
    comparison = final_comparison(final, soft)
    rows = []
    for row in comparison["rows"]:
        scores, intervals = row["scores"], row["intervals"]
        flat = {
            "accuracy": scores.get("accuracy"),
            "ci": intervals.get("accuracy"),
            "ece": scores.get("ece"),
            "ece_ci": intervals.get("ece"),
        }
        rows.append({**{k: v for k, v in row.items() if k not in ("predictions", "keys")}, **flat})
    return {"metric": comparison["metric"], "n": comparison["n"], "rows": rows}


def _prompts(result: Mapping[str, Any], stages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The prompts worth reading in full: the winner, each stage's best and the baseline.

    ``dev_objective`` is the score that chose the prompt; ``test_objective`` its held-out score
    when it was one of the prompts scored on the test split.
    """
    final = result.get("final") or {}
    held_out = {row.get("prompt"): row.get("objective") for row in (final.get("test") or {}).values()}
    rows = []
    if final.get("winner"):
        rows.append(("winner (finalists confirmed on dev examples outside the minibatch)", final["winner"]))
    winners = result.get("winners") or {}
    for stage in stages:
        best = winners.get(stage["name"])
        if best is None and stage["best_so_far"]:
            best_id = stage["best_so_far"][-1]["id"]
            best = next(c for c in stage["candidates"] if c["id"] == best_id)
        if best is not None:
            rows.append((f"{stage['label']}: best on the dev minibatch", best))
    baseline = (final.get("test") or {}).get("baseline")
    if baseline:
        rows.append(("baseline prompt", {"prompt": baseline.get("prompt", "")}))
    return [
        {
            "role": role,
            "id": cand.get("id"),
            "prompt": cand.get("prompt", ""),
            "dev_objective": cand.get("objective"),
            "test_objective": held_out.get(cand.get("prompt")),
        }
        for role, cand in rows
    ]


def _soft_note(config: Mapping[str, Any], status: str) -> str:
    if not config.get("soft", {}).get("enabled", False):
        return "soft-prompt stage not run: soft.enabled is false in this campaign"
    if status != "done":
        return f"soft-prompt stage not run (yet): the run is {status}"
    return "soft-prompt stage not run: the run's result has no soft-prompt section"
