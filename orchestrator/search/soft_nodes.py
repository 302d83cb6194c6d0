"""Graph nodes after stage 2: hand-off to the soft-prompt stage, training, and the final comparison.

handoff -> soft_sources -> soft_target -> soft_fusion -> final_eval. Each node returns the fields it
changes; trained prompts live on disk under the run's folder (``<store dir>/soft/<run id>``) and each
training is skipped when its record exists, so a resumed run redoes only unfinished work.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any, Literal

from langgraph.runtime import Runtime

from orchestrator.search.context import SearchContext
from orchestrator.search.state import SearchState, stage_history
from orchestrator.soft_stage import curve_of, local_twin, save_record, soft_inputs, task_data, train_record

__all__ = ["final_eval", "handoff", "route_after_handoff", "soft_fusion", "soft_sources", "soft_target"]


def handoff(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Pick the winning prompt of each source task and the target's winner for the soft stage."""
    ctx = runtime.context
    model, reason = local_twin(ctx.campaign)
    if model is None:
        ctx.emit("soft_skipped", reason=reason)
        return {"soft": {"skipped": reason}}
    sources = {}
    for task in ctx.source_tasks:
        ranked = sorted(
            stage_history(state, "source"), key=lambda c: (-c["per_task"][task]["objective"], c["id"])
        )
        sources[task] = {"prompt": ranked[0]["prompt"]}
    folder = Path(ctx.store.path).parent / "soft" / ctx.run_id
    plan = {"model": model, "dir": str(folder), "sources": sources, "target": {"prompt": _winner(state)}}
    ctx.emit("soft_start", model=model, sources=list(sources))
    return {"soft": plan}


def route_after_handoff(state: SearchState) -> Literal["soft_sources", "__end__"]:
    return "__end__" if "skipped" in state.get("soft", {}) else "soft_sources"


def _winner(state: SearchState) -> str:
    return state["final"]["winner"]["prompt"]


def _train_config(ctx: SearchContext, steps: int | None = None):
    from soft_prompts.config import TrainConfig

    soft = ctx.campaign.soft
    return TrainConfig(
        max_steps=steps or soft.steps,
        batch_size=soft.batch_size,
        learning_rate=soft.learning_rate,
        eval_every=soft.eval_every,
        patience=None,
        seed=ctx.campaign.run.seed,
        use_accelerate=False,
    )


def _data(ctx: SearchContext, task: str):
    soft = ctx.campaign.soft
    scorer = ctx.scorer
    train = scorer.split(task, "train")[: soft.train_examples]
    dev = scorer.split(task, "dev")[: soft.dev_examples]
    return task_data(scorer.tasks[task], train, dev)


async def _train_single(
    ctx: SearchContext, name: str, out: Path, task: str, init: Any, vector_store: Path | None
) -> dict:
    record = train_record(out)
    if record is not None:
        return record
    from soft_prompts.api import train_soft_prompt

    model, tokenizer = await ctx.soft_model.get()
    data = _data(ctx, task)
    run = await asyncio.to_thread(
        train_soft_prompt,
        model,
        tokenizer,
        data,
        init=init,
        n_virtual_tokens=ctx.campaign.soft.n_virtual_tokens,
        config=_train_config(ctx),
        model_id=ctx.soft_model.name,
        out_dir=out / "prompt",
        vector_store=vector_store,
        vector_name=task if vector_store else None,
    )
    ctx.emit("soft_trained", name=name, steps=run.result.steps, best_dev=run.result.best_dev_score)
    return save_record(
        out,
        {
            "prompt_dir": str(out / "prompt"),
            "curve": curve_of(run.result),
            "best_dev": run.result.best_dev_score,
        },
    )


async def soft_sources(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Tune one text-initialised soft prompt per source task; store its task prompt vector."""
    from soft_prompts.config import PromptInit

    ctx = runtime.context
    plan = dict(state["soft"])
    folder = Path(plan["dir"])
    sources = {}
    for task, info in plan["sources"].items():
        init = PromptInit(kind="text", text=info["prompt"])
        out = folder / "sources" / task
        record = await _train_single(ctx, f"source:{task}", out, task, init, folder / "vectors")
        sources[task] = {**info, **record}
    return {"soft": {**plan, "sources": sources}}


async def soft_target(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Tune the target from the stage-2 winner's text, and from that text plus the source vectors."""
    from soft_prompts.checkpoint import save_static_prompt
    from soft_prompts.config import PromptInit
    from soft_prompts.transfer import delta_transfer_init

    ctx = runtime.context
    plan = dict(state["soft"])
    folder, target, text = Path(plan["dir"]), ctx.target_task, plan["target"]["prompt"]
    text_run = await _train_single(
        ctx, "target:text", folder / "target_text", target, PromptInit(kind="text", text=text), None
    )
    init_dir = folder / "target_vector_init"
    if not (init_dir / "soft_prompt.json").is_file():
        model, tokenizer = await ctx.soft_model.get()
        start = await asyncio.to_thread(
            delta_transfer_init,
            model,
            tokenizer,
            text,
            ctx.campaign.soft.n_virtual_tokens,
            folder / "vectors",
            list(plan["sources"]),
        )
        save_static_prompt(start, init_dir, model_id=ctx.soft_model.name)
    vector_run = await _train_single(
        ctx,
        "target:vectors",
        folder / "target_vectors",
        target,
        PromptInit(kind="stored", path=str(init_dir)),
        None,
    )
    return {"soft": {**plan, "target": {**plan["target"], "text": text_run, "vectors": vector_run}}}


async def soft_fusion(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Train a gated fusion over the pool (source prompts + the target prompt) on all tasks jointly."""
    from soft_prompts.api import train_fused_prompt

    ctx = runtime.context
    plan = dict(state["soft"])
    out = Path(plan["dir"]) / "fusion"
    record = train_record(out)
    if record is None:
        tasks = [*plan["sources"], ctx.target_task]
        pool = [plan["sources"][t]["prompt_dir"] for t in plan["sources"]] + [
            plan["target"]["text"]["prompt_dir"]
        ]
        model, tokenizer = await ctx.soft_model.get()
        run = await asyncio.to_thread(
            train_fused_prompt,
            model,
            tokenizer,
            [_data(ctx, t) for t in tasks],
            pool,
            config=_train_config(ctx, ctx.campaign.soft.fusion_steps),
            temperature=ctx.campaign.soft.gate_temperature,
            model_id=ctx.soft_model.name,
            out_dir=out / "prompt",
        )
        ctx.emit("soft_trained", name="fusion", steps=run.result.steps, best_dev=run.result.best_dev_score)
        record = save_record(
            out,
            {
                "prompt_dir": str(out / "prompt"),
                "curve": curve_of(run.result),
                "best_dev": run.result.best_dev_score,
                "tasks": tasks,
                "pool": [f"source:{t}" for t in plan["sources"]] + ["target:text"],
                "gate": run.gate_matrix.tolist(),
            },
        )
    return {"soft": {**plan, "fusion": record}}


async def final_eval(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Held-out comparison with bootstrap intervals: discrete prompts and the three soft prompts."""
    from evaluators import batch_calibrate, expected_calibration_error
    from evaluators.bootstrap import bootstrap_ci
    from soft_prompts.transfer import score_prompt_dir, vector_similarity

    ctx = runtime.context
    plan = state["soft"]
    target = ctx.target_task
    task = ctx.scorer.tasks[target]
    test = ctx.scorer.split(target, "test")
    gold = [task.labels.index(e.target) for e in test]
    labels = [" " + label for label in task.labels]
    model, tokenizer = await ctx.soft_model.get()
    fusion = plan["fusion"]
    soft_rows = {
        "soft: text init": (plan["target"]["text"]["prompt_dir"], 0),
        "soft: vector init": (plan["target"]["vectors"]["prompt_dir"], 0),
        "soft: gated fusion": (fusion["prompt_dir"], fusion["tasks"].index(target)),
    }
    comparison = [_discrete_row(name, row, target) for name, row in state["final"]["test"].items()]
    for name, (prompt_dir, task_id) in soft_rows.items():
        probs = await asyncio.to_thread(
            score_prompt_dir, model, tokenizer, prompt_dir, soft_inputs(task, test), labels, task_id
        )
        # The discrete rows' label scores are batch-calibrated; the soft rows get the same correction
        # (content-free calibration would need the soft prompt on content-free inputs: left raw).
        calibration = "batch" if ctx.campaign.scoring.calibration == "batch" else "none"
        if calibration == "batch":
            probs = batch_calibrate(probs).tolist()
        answers = [max(range(len(p)), key=p.__getitem__) for p in probs]
        correct = [float(a == g) for a, g in zip(answers, gold, strict=True)]
        ci = bootstrap_ci(correct, seed=ctx.campaign.run.seed)
        comparison.append(
            {
                "name": name,
                "kind": "soft",
                "accuracy": sum(correct) / len(correct),
                "ci": [float(ci.low), float(ci.high)],
                "ece": float(expected_calibration_error(probs, gold)),
                "objective": None,
                "predictions": [task.labels[a] for a in answers],  # for paired comparisons and flags
                "calibration": calibration,
            }
        )
    sources = list(plan["sources"])
    curves = {f"source:{t}": plan["sources"][t]["curve"] for t in sources}
    curves.update(
        {"target:text": plan["target"]["text"]["curve"], "target:vectors": plan["target"]["vectors"]["curve"]}
    )
    curves["fusion"] = fusion["curve"]
    similarity = await asyncio.to_thread(vector_similarity, Path(plan["dir"]) / "vectors", sources)
    report = {
        "curves": curves,
        "gate": {"tasks": fusion["tasks"], "pool": fusion["pool"], "weights": fusion["gate"]},
        "similarity": {"tasks": sources, "matrix": similarity},
        "comparison": comparison,
    }
    ctx.emit("soft_final", **{row["name"]: row["accuracy"] for row in comparison})
    return {"soft_report": report}


def _discrete_row(name: str, row: dict[str, Any], target: str) -> dict[str, Any]:
    scores = row.get("scores", {})
    interval = row.get("per_task", {}).get(target, {}).get("intervals", {}).get("accuracy")
    ece = scores.get("ece")
    return {
        "name": {"baseline": "baseline prompt", "stage1_best": "best stage-1 prompt"}.get(
            name, "best stage-2 prompt"
        ),
        "kind": "discrete",
        "accuracy": scores.get("accuracy"),
        "ci": interval,
        "ece": None if ece is None or math.isnan(ece) else ece,
        "objective": row.get("objective"),
    }
