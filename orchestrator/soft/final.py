"""The last node: the held-out comparison of the discrete prompts and the three soft prompts, and the soft
stage's report section (typed by :class:`orchestrator.soft.results.SoftResults`)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from orchestrator.graph_state import GraphContext, SearchState
from orchestrator.soft.measure import held_out_row
from orchestrator.soft.results import ComparisonRow, Gate, Similarity, SoftPlan, SoftResults

__all__ = ["final_eval"]


async def final_eval(state: SearchState, runtime: Runtime[GraphContext]) -> dict:
    """Held-out comparison with bootstrap intervals: discrete prompts and the three soft prompts."""
    ctx = runtime.context
    plan = SoftPlan.model_validate(state["soft"])
    fusion = plan.fusion
    contenders = {
        "soft: text init": (plan.target.text, None, 0),
        "soft: vector init": (plan.target.vectors, plan.target.vectors_not_run, 0),
        "soft: gated fusion": (fusion, None, fusion.tasks.index(ctx.target_task)),
    }
    comparison = [_discrete_row(name, row, ctx.target_task) for name, row in state["final"]["test"].items()]
    for name, (record, not_run, task_id) in contenders.items():
        if record is None:
            reason = not_run or "not trained"
            comparison.append(ComparisonRow(name=name, kind="soft", accuracy=None, not_run=reason))
            continue
        row = await _soft_row(ctx, name, record.prompt_dir, task_id)
        if name == "soft: text init" and not getattr(record, "trained_past_start", True):
            row = row.model_copy(update={"note": await _untrained_note(ctx, plan.target.prompt)})
        comparison.append(row)
    report = SoftResults(
        curves=_curves(plan),
        gate=Gate(tasks=fusion.tasks, pool=fusion.pool, weights=fusion.gate),
        similarity=await _similarity(plan),
        comparison=comparison,
    )
    ctx.emit("soft_final", **{row.name: row.accuracy for row in comparison if not row.not_run})
    return {"soft_report": report.model_dump(mode="json")}


async def _soft_row(ctx: GraphContext, name: str, prompt_dir: str, task_id: int) -> ComparisonRow:
    model, tokenizer = await ctx.soft.model.get()
    return await held_out_row(
        model,
        tokenizer,
        ctx.soft.splits[ctx.target_task],
        prompt_dir,
        task_id,
        name=name,
        seed=ctx.campaign.run.seed,
        calibration=ctx.campaign.scoring.calibration,
        options=ctx.soft.model.options,
    )


async def _untrained_note(ctx: GraphContext, text: str) -> str:
    """What an untrained text-initialised prompt is: the winner's text, or that text cut or repeated."""
    _, tokenizer = await ctx.soft.model.get()
    tokens = len(tokenizer(text, add_special_tokens=False).input_ids)
    if tokens == ctx.campaign.soft.n_virtual_tokens:
        return "the best stage-2 prompt itself: not trained past its start, so the same answers"
    return (
        f"not trained past its start: the best stage-2 prompt's {tokens} tokens "
        f"{'cut' if tokens > ctx.campaign.soft.n_virtual_tokens else 'repeated'} to "
        f"{ctx.campaign.soft.n_virtual_tokens} virtual tokens"
    )


def _curves(plan: SoftPlan) -> dict[str, Any]:
    curves = {f"source:{t}": info.trained.curve for t, info in plan.sources.items()}
    trained = {"target:text": plan.target.text, "target:vectors": plan.target.vectors}
    curves.update({name: record.curve for name, record in trained.items() if record is not None})
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
