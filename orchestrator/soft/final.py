"""The last node: the held-out comparison of the discrete prompts and the three soft prompts, and the soft
stage's report section (typed by :class:`orchestrator.soft.results.SoftResults`)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from orchestrator.search.context import SearchContext
from orchestrator.search.state import SearchState
from orchestrator.soft.data import SoftSplits, soft_inputs
from orchestrator.soft.results import ComparisonRow, Gate, Similarity, SoftResults

__all__ = ["final_eval", "held_out_row"]

SOFT_ROWS = ("soft: text init", "soft: vector init", "soft: gated fusion")


async def final_eval(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Held-out comparison with bootstrap intervals: discrete prompts and the three soft prompts."""
    ctx = runtime.context
    plan = state["soft"]
    fusion = plan["fusion"]
    prompt_dirs = {
        "soft: text init": (plan["target"]["text"]["prompt_dir"], 0),
        "soft: vector init": (plan["target"]["vectors"]["prompt_dir"], 0),
        "soft: gated fusion": (fusion["prompt_dir"], fusion["tasks"].index(ctx.target_task)),
    }
    comparison = [_discrete_row(name, row, ctx.target_task) for name, row in state["final"]["test"].items()]
    for name, (prompt_dir, task_id) in prompt_dirs.items():
        comparison.append(await _soft_row(ctx, name, prompt_dir, task_id))
    report = SoftResults(
        curves=_curves(plan),
        gate=Gate(tasks=fusion["tasks"], pool=fusion["pool"], weights=fusion["gate"]),
        similarity=await _similarity(plan),
        comparison=comparison,
    )
    ctx.emit("soft_final", **{row.name: row.accuracy for row in comparison})
    return {"soft_report": report.model_dump(mode="json")}


async def _soft_row(ctx: SearchContext, name: str, prompt_dir: str, task_id: int) -> ComparisonRow:
    model, tokenizer = await ctx.soft.model.get()
    return await asyncio.to_thread(
        held_out_row,
        model,
        tokenizer,
        ctx.soft.splits[ctx.target_task],
        prompt_dir,
        task_id,
        name=name,
        seed=ctx.campaign.run.seed,
        calibration=ctx.campaign.scoring.calibration,
    )


def held_out_row(
    model: Any,
    tokenizer: Any,
    splits: SoftSplits,
    prompt_dir: str | Path,
    task_id: int = 0,
    *,
    name: str,
    seed: int,
    calibration: str = "batch",
) -> ComparisonRow:
    """A stored soft prompt on the test split: accuracy with its bootstrap interval, ECE, answers.

    The campaign's final comparison and ``promptfusion soft train`` both measure soft prompts here.

    Args:
        model, tokenizer: the frozen base model the prompt was tuned on.
        splits: the task's soft splits (``splits.test`` is scored).
        prompt_dir: the saved prompt; ``task_id`` selects a task of a fused prompt.
        name: the row's name.
        seed: bootstrap seed.
        calibration: ``scoring.calibration``; ``batch`` is applied as to the discrete rows,
            ``content_free`` would need the soft prompt on content-free inputs and is left raw.
    """
    from evaluators import batch_calibrate, expected_calibration_error
    from evaluators.bootstrap import bootstrap_ci
    from soft_prompts.transfer import score_prompt_dir

    task, test = splits.task, splits.test
    gold = [task.labels.index(e.target) for e in test]
    labels = [" " + label for label in task.labels]
    probs = score_prompt_dir(model, tokenizer, prompt_dir, soft_inputs(task, test), labels, task_id)
    applied = "batch" if calibration == "batch" else "none"
    if applied == "batch":
        probs = batch_calibrate(probs).tolist()
    answers = [max(range(len(p)), key=p.__getitem__) for p in probs]
    correct = [float(a == g) for a, g in zip(answers, gold, strict=True)]
    ci = bootstrap_ci(correct, seed=seed)
    return ComparisonRow(
        name=name,
        kind="soft",
        accuracy=sum(correct) / len(correct),
        ci=[float(ci.low), float(ci.high)],
        ece=float(expected_calibration_error(probs, gold)),
        predictions=[task.labels[a] for a in answers],  # for paired comparisons and flags
        calibration=applied,
    )


def _curves(plan: dict[str, Any]) -> dict[str, Any]:
    curves = {f"source:{t}": info["curve"] for t, info in plan["sources"].items()}
    curves["target:text"] = plan["target"]["text"]["curve"]
    curves["target:vectors"] = plan["target"]["vectors"]["curve"]
    curves["fusion"] = plan["fusion"]["curve"]
    return curves


async def _similarity(plan: dict[str, Any]) -> Similarity:
    """Cosine similarity of the stored source vectors; sources not trained past their start are listed."""
    from soft_prompts.transfer import vector_similarity

    stored = [task for task, info in plan["sources"].items() if info.get("vector")]
    untrained = [task for task in plan["sources"] if task not in stored]
    names, matrix = await asyncio.to_thread(vector_similarity, Path(plan["dir"]) / "vectors", stored)
    return Similarity(tasks=names, matrix=matrix, untrained=untrained)


def _discrete_row(name: str, row: dict[str, Any], target: str) -> ComparisonRow:
    scores = row.get("scores", {})
    interval = row.get("per_task", {}).get(target, {}).get("intervals", {}).get("accuracy")
    ece = scores.get("ece")
    return ComparisonRow(
        name={"baseline": "baseline prompt", "stage1_best": "best stage-1 prompt"}.get(
            name, "best stage-2 prompt"
        ),
        kind="discrete",
        accuracy=scores.get("accuracy"),
        ci=interval,
        ece=None if ece is None or math.isnan(ece) else ece,
        objective=row.get("objective"),
    )
