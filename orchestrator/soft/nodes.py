"""Graph nodes of the soft stage: hand-off, source prompts, target prompts and the gated fusion.

handoff -> soft_sources -> soft_target -> soft_fusion -> final_eval (:mod:`orchestrator.soft.final`). Each
node returns the fields it changes; trained prompts live on disk under the run's folder
(``<store dir>/soft/<run id>``) with a ``done.json`` record each, so a resumed run (or a replayed node)
trains only what was not finished. Progress reports of a training go to the live display only
(``soft_progress`` events, not stored); ``soft_trained`` and ``soft_warning`` events are stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Literal

from langgraph.runtime import Runtime

from orchestrator.graph_state import GraphContext, SearchState, stage_history
from orchestrator.soft.results import FusionRecord, SoftPlan, SourcePlan, TargetPlan, TrainedPrompt
from orchestrator.soft.training import SoftProgress, train_fusion, train_task_prompt
from orchestrator.soft.twin import local_twin

__all__ = ["handoff", "route_after_handoff", "soft_fusion", "soft_sources", "soft_target"]

RECORD = "done.json"


def handoff(state: SearchState, runtime: Runtime[GraphContext]) -> dict:
    """Pick the winning prompt of each source task and the target's winner for the soft stage."""
    ctx = runtime.context
    model, reason = local_twin(ctx.campaign)
    if model is None or ctx.soft is None:
        reason = reason or "no soft stage dependencies in the context"
        ctx.emit("soft_skipped", reason=reason)
        return {"soft": SoftPlan(skipped=reason).state()}
    sources = {}
    for task in ctx.source_tasks:
        ranked = sorted(
            stage_history(state, "source"), key=lambda c: (-c["per_task"][task]["objective"], c["id"])
        )
        sources[task] = SourcePlan(prompt=ranked[0]["prompt"])
    folder = Path(ctx.store.path).parent / "soft" / ctx.run_id
    target = TargetPlan(prompt=state["final"]["winner"]["prompt"])
    plan = SoftPlan(model=model, dir=str(folder), sources=sources, target=target)
    ctx.emit("soft_start", model=model, sources=list(sources), steps=ctx.campaign.soft.steps)
    return {"soft": plan.state()}


def route_after_handoff(state: SearchState) -> Literal["soft_sources", "__end__"]:
    return "__end__" if SoftPlan.model_validate(state.get("soft", {})).skipped else "soft_sources"


def _finished(out: Path, schema: type[TrainedPrompt] = TrainedPrompt) -> TrainedPrompt | None:
    """The record of a finished training in ``out``, or None when it must (re)run."""
    try:
        return schema.model_validate(json.loads((out / RECORD).read_text()))
    except (OSError, ValueError):
        return None


def _save(out: Path, record: TrainedPrompt) -> TrainedPrompt:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (RECORD + ".tmp")
    tmp.write_text(record.model_dump_json())
    tmp.replace(out / RECORD)
    return record


def _progress_sink(ctx: GraphContext):
    """Forwards progress from the training thread to the display, on the event loop's thread."""
    loop = asyncio.get_running_loop()

    def sink(progress: SoftProgress) -> None:
        loop.call_soon_threadsafe(ctx.on_event, "soft_progress", dataclasses.asdict(progress))

    return sink


def _announce(ctx: GraphContext, name: str, record: TrainedPrompt) -> None:
    ctx.emit(
        "soft_trained",
        name=name,
        steps=record.curve[-1].step if record.curve else 0,
        best_dev=record.best_dev,
    )
    if not record.trained_past_start:
        ctx.emit(
            "soft_warning",
            name=name,
            message=f"soft: {name} was not trained past its start (no dev score beat step 0); "
            "its task vector is left out of transfer and similarity",
        )


async def _train_single(
    ctx: GraphContext, name: str, out: Path, task: str, init, vector_store
) -> TrainedPrompt:
    record = _finished(out)
    if record is not None:
        return record
    model, tokenizer = await ctx.soft.model.get()
    record = await asyncio.to_thread(
        train_task_prompt,
        model,
        tokenizer,
        ctx.soft.model.name,
        ctx.soft.splits[task],
        init,
        ctx.campaign.soft,
        ctx.campaign.run.seed,
        out / "prompt",
        vector_store,
        name,
        _progress_sink(ctx),
    )
    _announce(ctx, name, record)
    return _save(out, record)


async def soft_sources(state: SearchState, runtime: Runtime[GraphContext]) -> dict:
    """Tune one text-initialised soft prompt per source task; store its task prompt vector."""
    from soft_prompts.config import PromptInit

    ctx = runtime.context
    plan = SoftPlan.model_validate(state["soft"])
    folder = Path(plan.dir)
    sources = {}
    for task, info in plan.sources.items():
        init = PromptInit(kind="text", text=info.prompt)
        out = folder / "sources" / task
        record = await _train_single(ctx, f"source:{task}", out, task, init, folder / "vectors")
        sources[task] = info.model_copy(update={"trained": record})
    return {"soft": plan.model_copy(update={"sources": sources}).state()}


async def soft_target(state: SearchState, runtime: Runtime[GraphContext]) -> dict:
    """Tune the target from the stage-2 winner's text, and from that text plus the source vectors.

    Only sources trained past their start contribute a vector; with none, the vector-initialised target
    is not run (``target.vectors_not_run`` says why; the comparison shows it so, and a ``soft_warning``
    event is emitted).
    """
    from soft_prompts.checkpoint import save_static_prompt
    from soft_prompts.config import PromptInit
    from soft_prompts.transfer import delta_transfer_init

    ctx = runtime.context
    plan = SoftPlan.model_validate(state["soft"])
    folder, target, text = Path(plan.dir), ctx.target_task, plan.target.prompt
    text_init = PromptInit(kind="text", text=text)
    text_run = await _train_single(ctx, "target:text", folder / "target_text", target, text_init, None)
    vectors = [task for task, info in plan.sources.items() if info.trained and info.trained.vector]
    if not vectors:  # nothing to transfer: the contender is not run, never a second text-init run
        reason = "no source prompt was trained past its start, so there is no task vector to transfer"
        ctx.emit("soft_warning", name="target:vectors", message=f"soft: vector init not run: {reason}")
        target_plan = plan.target.model_copy(
            update={"text": text_run, "vectors": None, "vectors_not_run": reason}
        )
        return {"soft": plan.model_copy(update={"target": target_plan}).state()}
    init_dir = folder / "target_vector_init"
    if not (init_dir / "soft_prompt.json").is_file():
        model, tokenizer = await ctx.soft.model.get()
        n_virtual = ctx.campaign.soft.n_virtual_tokens
        start = await asyncio.to_thread(
            delta_transfer_init, model, tokenizer, text, n_virtual, folder / "vectors", vectors
        )
        save_static_prompt(start, init_dir, model_id=ctx.soft.model.name, metadata={"vectors": vectors})
    vector_init = PromptInit(kind="stored", path=str(init_dir))
    vector_run = await _train_single(
        ctx, "target:vectors", folder / "target_vectors", target, vector_init, None
    )
    target_plan = plan.target.model_copy(update={"text": text_run, "vectors": vector_run})
    return {"soft": plan.model_copy(update={"target": target_plan}).state()}


async def soft_fusion(state: SearchState, runtime: Runtime[GraphContext]) -> dict:
    """Train a gated fusion over the pool (source prompts + the target prompt) on all tasks jointly."""
    ctx = runtime.context
    plan = SoftPlan.model_validate(state["soft"])
    out = Path(plan.dir) / "fusion"
    record = _finished(out, FusionRecord)
    if record is None:
        tasks = [*plan.sources, ctx.target_task]
        pool = [(f"source:{t}", info.trained.prompt_dir) for t, info in plan.sources.items()]
        pool.append(("target:text", plan.target.text.prompt_dir))
        model, tokenizer = await ctx.soft.model.get()
        record = await asyncio.to_thread(
            train_fusion,
            model,
            tokenizer,
            ctx.soft.model.name,
            [ctx.soft.splits[t] for t in tasks],
            pool,
            ctx.campaign.soft,
            ctx.campaign.run.seed,
            out / "prompt",
            _progress_sink(ctx),
        )
        _announce(ctx, "fusion", record)
        record = _save(out, record)
    return {"soft": plan.model_copy(update={"fusion": record}).state()}
