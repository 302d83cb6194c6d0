"""The search graph's nodes. Each is ``(state, runtime) -> dict`` of the fields it changes.

init -> score (or score_and_propose) -> evaluate -> select -> (propose -> filter -> score -> ...) ->
promote -> score -> ... -> final_dev -> final_test. Routers live in ``graph.py``.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from orchestrator.backends.base import ChatRequest
from orchestrator.comparison import headline_metric
from orchestrator.search.candidates import candidate_id, extract_prompt, filter_proposals
from orchestrator.search.context import SearchContext, derive_seed
from orchestrator.search.gather import gather_settled
from orchestrator.search.meta_prompt import build_meta_prompt
from orchestrator.search.selection import aggregate, choose_best, mark_accepted, pareto_ids
from orchestrator.search.state import SearchState, by_id, stage_history

__all__ = [
    "evaluate",
    "filter_node",
    "final_dev",
    "final_test",
    "init",
    "promote",
    "propose",
    "score",
    "score_and_propose",
    "select",
    "stop_reason",
    "target_reached",
]


def _ctx(runtime: Runtime[SearchContext]) -> SearchContext:
    return runtime.context


def init(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Start stage 1 by queueing the baseline prompts."""
    ctx = _ctx(runtime)
    baselines = _unique(ctx.campaign.search.baseline_prompts)
    ctx.emit("stage", stage="source", tasks=list(ctx.source_tasks))
    return {
        "stage": "source",
        "iteration": 0,
        "history": [],
        "pending": [{"prompt": p, "origin": "baseline"} for p in baselines],
        "best": {},
        "stale": 0,
        "stage_stop": {},
    }


async def propose(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """The reference LLM proposes N candidates from the meta-prompt (concurrently, seeded, cached)."""
    ctx = _ctx(runtime)
    stage, iteration = state["stage"], state["iteration"] + 1
    best = by_id(state, stage, state["best"][stage])
    proposals = await _write_candidates(ctx, stage, iteration, stage_history(state, stage), best["per_task"])
    return {"iteration": iteration, "proposals": proposals}


async def score_and_propose(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Stage 1's first round, overlapped: score the baselines while the reference LLM writes round 1.

    Round 1's meta-prompt shows the baselines' text marked "not measured yet" and exemplars from the
    train split only; every later round sees scores as usual. Saves one reference-LLM round trip.
    """
    ctx = _ctx(runtime)
    unscored = [{"prompt": item["prompt"], "id": candidate_id(item["prompt"])} for item in state["pending"]]
    scored, proposals = await gather_settled(
        [score(state, runtime), _write_candidates(ctx, state["stage"], 1, unscored, {})]
    )
    return {**scored, "iteration": 1, "proposals": proposals, "round_written": True}


async def _write_candidates(
    ctx: SearchContext,
    stage: str,
    iteration: int,
    history: list[dict],
    best_per_task: dict[str, dict],
) -> list[str]:
    """Ask the reference LLM for ``candidates_per_step`` prompts (one request per sample index).

    ``best_per_task`` holds the current best prompt's results; the examples it got wrong are shown
    first among the exemplars.
    """
    search = ctx.campaign.search
    tasks = ctx.stage_tasks(stage)
    described = [ctx.scorer.describe(task) for task in tasks]
    per_task = max(1, -(-search.exemplars // len(tasks))) if search.exemplars else 0
    exemplars: list[tuple[str, str]] = []
    for task in tasks:
        wrong = best_per_task.get(task, {}).get("wrong", [])
        seed = derive_seed(ctx.campaign.run.seed, stage, iteration, task)
        exemplars += ctx.scorer.exemplars(task, per_task, wrong, seed)
    meta = build_meta_prompt(
        task_descriptions=[f"{d} Answer format: {fmt}." for d, fmt in described],
        exemplars=exemplars[: search.exemplars],
        history=history,
        dimensions=list(ctx.dimensions),
        top_k=search.history_top_k,
        answer_format=described[0][1] if len(described) == 1 else "the answer format each task asks for",
        max_words=max(20, search.max_prompt_chars // 6),
    )
    settings = ctx.campaign.models.reference
    requests = [
        ChatRequest(
            messages=(("user", meta),),
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=derive_seed(ctx.campaign.run.seed, stage, iteration, index),
            sample_index=index,
        )
        for index in range(search.candidates_per_step)
    ]
    replies = await gather_settled(ctx.reference.complete(r) for r in requests)
    proposals = [extract_prompt(reply.text) for reply in replies]
    ctx.emit("proposed", stage=stage, iteration=iteration, count=len(proposals))
    return proposals


def filter_node(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Drop duplicates, over-long text and leaked meta-prompt markers."""
    ctx = _ctx(runtime)
    seen = [c["id"] for c in stage_history(state, state["stage"])]
    result = filter_proposals(
        state.get("proposals", []), seen, max_chars=ctx.campaign.search.max_prompt_chars
    )
    ctx.emit("filtered", kept=len(result.kept), rejected=len(result.rejected))
    return {
        "pending": [{"prompt": p, "origin": "proposed"} for p in result.kept],
        "rejected": result.rejected,
        "proposals": [],
        "round_written": False,
    }


async def score(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """The scorer LLM runs every pending candidate on every stage task's minibatch, all concurrently."""
    ctx = _ctx(runtime)
    stage, iteration = state["stage"], state["iteration"]
    tasks = ctx.stage_tasks(stage)
    pending = state.get("pending", [])
    jobs = [ctx.scorer.score(item["prompt"], task, "minibatch") for item in pending for task in tasks]
    results = await gather_settled(jobs)
    scored = []
    for i, item in enumerate(pending):
        per_task = {task: results[i * len(tasks) + j] for j, task in enumerate(tasks)}
        scored.append(
            {
                "id": candidate_id(item["prompt"]),
                "prompt": item["prompt"],
                "stage": stage,
                "iteration": iteration,
                "origin": item["origin"],
                "per_task": per_task,
            }
        )
    ctx.emit("scored", stage=stage, iteration=iteration, candidates=len(scored))
    return {"scored": scored}


def evaluate(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Aggregate each candidate's dimensions over the stage's tasks and compute its objective."""
    ctx = _ctx(runtime)
    scored = [{**c, **aggregate(c["per_task"], ctx.objective)} for c in state.get("scored", [])]
    return {"scored": scored}


def select(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Add the round's candidates to the history; update front, best and the patience counter."""
    ctx = _ctx(runtime)
    stage = state["stage"]
    previous = stage_history(state, stage)
    policy = ctx.campaign.objective
    scored = mark_accepted(state.get("scored", []), previous, policy, ctx.dimensions)
    history = state.get("history", []) + scored
    in_stage = previous + scored
    best = choose_best(in_stage, policy)
    old_best = state.get("best", {}).get(stage)
    improved = old_best is None or (
        best["id"] != old_best and best["objective"] > by_id(state, stage, old_best)["objective"] + 1e-12
    )
    for cand in scored:
        ctx.store.record_candidate(ctx.run_id, cand)
    ctx.emit(
        "selected",
        stage=stage,
        iteration=state["iteration"],
        best_objective=best["objective"],
        best_scores=best["scores"],
        candidates=len(scored),
        degenerate=degenerate_flags(best),
    )
    return {
        "history": history,
        "scored": [],
        "pending": [],
        "front": pareto_ids(in_stage, ctx.dimensions),
        "best": {**state.get("best", {}), stage: best["id"]},
        "stale": 0 if improved else state.get("stale", 0) + 1,
    }


def promote(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Carry the top-k source prompts (and the baselines) into stage 2 on the target task."""
    ctx = _ctx(runtime)
    ranked = sorted(stage_history(state, "source"), key=lambda c: (-c["objective"], c["id"]))
    top = [c["prompt"] for c in ranked[: ctx.campaign.search.promote_top_k]]
    baselines = [p for p in _unique(ctx.campaign.search.baseline_prompts) if p not in top]
    pending = [{"prompt": p, "origin": "promoted"} for p in top]
    pending += [{"prompt": p, "origin": "baseline"} for p in baselines]
    ctx.emit("stage", stage="target", tasks=[ctx.target_task], promoted=len(top))
    return {
        "stage": "target",
        "iteration": 0,
        "stale": 0,
        "proposals": [],
        "round_written": False,
        "pending": pending,
        "stage_stop": {**state.get("stage_stop", {}), "source": stop_reason(state, ctx) or "done"},
    }


async def final_dev(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Re-score the finalists on the whole dev split of the target task and name the winner."""
    ctx = _ctx(runtime)
    ranked = sorted(stage_history(state, "target"), key=lambda c: (-c["objective"], c["id"]))
    finalists = ranked[: ctx.campaign.search.finalists]
    results = await gather_settled(ctx.scorer.score(c["prompt"], ctx.target_task, "dev") for c in finalists)
    rescored = []
    for cand, result in zip(finalists, results, strict=True):
        summary = aggregate({ctx.target_task: result}, ctx.objective)
        rescored.append({"id": cand["id"], "prompt": cand["prompt"], "origin": cand["origin"], **summary})
    winner = max(rescored, key=lambda c: (c["objective"], c["id"]))
    ctx.emit("finalists", winner=winner["id"], objective=winner["objective"], finalists=len(rescored))
    return {
        "stage_stop": {**state.get("stage_stop", {}), "target": stop_reason(state, ctx) or "done"},
        "final": {"finalists": rescored, "winner": winner},
    }


async def final_test(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Score the winner, the baseline and the best stage-1 prompt once on the held-out test split."""
    ctx = _ctx(runtime)
    final = dict(state["final"])
    baseline = ctx.campaign.search.baseline_prompts[0]
    stage1 = by_id(state, "source", state["best"]["source"])["prompt"]
    contenders = {"baseline": baseline, "stage1_best": stage1, "winner": final["winner"]["prompt"]}
    distinct = list(dict.fromkeys(contenders.values()))  # the winner is often the stage-1 best
    results = await gather_settled(ctx.scorer.score(p, ctx.target_task, "test") for p in distinct)
    by_prompt = dict(zip(distinct, results, strict=True))
    test = {}
    for name, prompt in contenders.items():
        test[name] = {"prompt": prompt, **aggregate({ctx.target_task: by_prompt[prompt]}, ctx.objective)}
    final["test"] = test
    final["metric"] = headline_metric(ctx.campaign.objective.weights)  # what the comparison's verdicts use
    final["seed"] = ctx.campaign.run.seed
    flags = {name: degenerate_flags(row) for name, row in test.items()}
    ctx.emit("test", **{name: row["objective"] for name, row in test.items()}, degenerate=flags)
    return {"final": final}


def degenerate_flags(candidate: dict) -> list[str]:
    """``"task: answers 'x' for 15/16"`` for each task where the candidate gives one label for >= 90%."""
    return [
        f"{task}: {result['degenerate']}"
        for task, result in (candidate.get("per_task") or {}).items()
        if result.get("degenerate")
    ]


def stop_reason(state: SearchState, ctx: SearchContext) -> str | None:
    """Why the current stage should stop now, or None to keep searching."""
    search = ctx.campaign.search
    stage = state["stage"]
    limit = search.stage1_iterations if stage == "source" else search.stage2_iterations
    if state["iteration"] >= limit:
        return f"iterations ({limit})"
    if state.get("stale", 0) >= search.patience:
        return f"patience ({search.patience} rounds without improvement)"
    if target_reached(state, ctx):
        return f"target score {search.target_score} reached"
    return None


def target_reached(state: SearchState, ctx: SearchContext) -> bool:
    """Whether the current stage's best candidate reaches ``search.target_score``."""
    target = ctx.campaign.search.target_score
    best_id = state.get("best", {}).get(state["stage"])
    if target is None or best_id is None:
        return False
    return by_id(state, state["stage"], best_id)["objective"] >= target


def _unique(prompts: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for prompt in prompts:
        cid = candidate_id(prompt)
        if cid not in seen:
            seen.add(cid)
            out.append(prompt)
    return out
