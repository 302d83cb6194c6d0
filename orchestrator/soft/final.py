"""The last node: the held-out comparison of the discrete prompts and the three soft prompts, and the soft
stage's report section (typed by :class:`orchestrator.soft.results.SoftResults`)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from orchestrator.graph_state import GraphContext, SearchState
from orchestrator.soft.heldout import held_out_row
from orchestrator.soft.results import ComparisonRow, Gate, Similarity, SoftPlan, SoftResults

__all__ = ["final_eval"]


async def final_eval(state: SearchState, runtime: Runtime[GraphContext]) -> dict:
    """Held-out comparison with bootstrap intervals: discrete prompts and the three soft prompts."""
    ctx = runtime.context
    plan = SoftPlan.model_validate(state["soft"])
    fusion = plan.fusion
    prompt_dirs = {
        "soft: text init": (plan.target.text.prompt_dir, 0),
        "soft: vector init": (plan.target.vectors.prompt_dir, 0),
        "soft: gated fusion": (fusion.prompt_dir, fusion.tasks.index(ctx.target_task)),
    }
    comparison = [_discrete_row(name, row, ctx.target_task) for name, row in state["final"]["test"].items()]
    for name, (prompt_dir, task_id) in prompt_dirs.items():
        comparison.append(await _soft_row(ctx, name, prompt_dir, task_id))
    report = SoftResults(
        curves=_curves(plan),
        gate=Gate(tasks=fusion.tasks, pool=fusion.pool, weights=fusion.gate),
        similarity=await _similarity(plan),
        comparison=comparison,
    )
    ctx.emit("soft_final", **{row.name: row.accuracy for row in comparison})
    return {"soft_report": report.model_dump(mode="json")}


async def _soft_row(ctx: GraphContext, name: str, prompt_dir: str, task_id: int) -> ComparisonRow:
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


def _curves(plan: SoftPlan) -> dict[str, Any]:
    curves = {f"source:{t}": info.trained.curve for t, info in plan.sources.items()}
    curves["target:text"] = plan.target.text.curve
    curves["target:vectors"] = plan.target.vectors.curve
    curves["fusion"] = plan.fusion.curve
    return curves


async def _similarity(plan: SoftPlan) -> Similarity:
    """Cosine similarity of the stored source vectors; sources not trained past their start are listed."""
    from soft_prompts.transfer import vector_similarity

    stored = [task for task, info in plan.sources.items() if info.trained.vector]
    untrained = [task for task in plan.sources if task not in stored]
    names, matrix = await asyncio.to_thread(vector_similarity, Path(plan.dir) / "vectors", stored)
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
