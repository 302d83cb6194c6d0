"""The search graph's nodes. Each is ``(state, runtime) -> dict`` of the fields it changes.

init -> score (or score_and_propose) -> evaluate -> select -> (propose -> filter -> score -> ...) ->
promote -> score -> ... -> final_dev -> final_test. Routers live in ``graph.py``.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from orchestrator.comparison import headline_metric
from orchestrator.search.candidates import candidate_id, filter_proposals
from orchestrator.search.context import SearchContext, derive_seed
from orchestrator.search.demos import write_demos
from orchestrator.search.gather import gather_settled
from orchestrator.search.plan import MAX_EMPTY_ROUNDS, plan_for
from orchestrator.search.proposers import write_candidates, write_edits, write_merges, write_reflections
from orchestrator.search.reflection import complementary_pair, example_front, operator_stats
from orchestrator.search.screening import score_all, screen_round
from orchestrator.search.selection import aggregate, choose_best, mark_accepted, pareto_ids
from orchestrator.search.shares import operator_counts
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
    "budget_stop",
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
        "empty_rounds": 0,
        "stage_stop": {},
    }


async def propose(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """The reference LLM proposes N candidates from the meta-prompt (concurrently, seeded, cached)."""
    ctx = _ctx(runtime)
    stage, iteration = state["stage"], state["iteration"] + 1
    best = by_id(state, stage, state["best"][stage])
    size = ctx.plan().round_size(stage, ctx.calls_left())
    search = ctx.campaign.search
    history = stage_history(state, stage)
    shares = {"reflected": search.reflection, "merged": search.merge, "edited": search.edits}
    counts = operator_counts(shares, size, iteration)
    # Without two complementary candidates there is nothing to merge: fresh writing takes those places.
    if counts["merged"] and not complementary_pair(example_front(history)):
        counts["merged"] = 0
    others = sum(counts.values())
    demos = 1 if search.demos and size - others >= 2 else 0  # fresh writing keeps a place
    fresh, revised, combined, demonstrated = await gather_settled(
        [
            write_candidates(ctx, stage, iteration, history, best["per_task"], size - others - demos),
            write_reflections(ctx, stage, iteration, history, counts["reflected"]),
            write_merges(ctx, stage, iteration, history, counts["merged"]),
            write_demos(ctx, stage, best["prompt"], search.demos if demos else 0),
        ]
    )
    edited = write_edits(ctx, stage, iteration, history, counts["edited"], best["prompt"])
    written = {
        "proposed": fresh,
        "reflected": revised,
        "merged": combined,
        "edited": edited,
        "demos": demonstrated,
    }
    return {
        "iteration": iteration,
        "proposals": [p for prompts in written.values() for p in prompts],
        "proposal_origins": [origin for origin, prompts in written.items() for _ in prompts],
    }


async def score_and_propose(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Stage 1's first round, overlapped: score the baselines while the reference LLM writes round 1.

    Round 1's meta-prompt shows the baselines' text marked "not measured yet" and exemplars from the
    train split only; every later round sees scores as usual. Saves one reference-LLM round trip.
    """
    ctx = _ctx(runtime)
    unscored = [{"prompt": item["prompt"], "id": candidate_id(item["prompt"])} for item in state["pending"]]
    plan, calls_left = ctx.plan(), ctx.calls_left()
    if calls_left is not None:  # the baselines are being scored from the same budget
        calls_left -= plan.start_calls("source")
    size = plan.round_size("source", calls_left)
    scored, proposals = await gather_settled(
        [score(state, runtime), write_candidates(ctx, state["stage"], 1, unscored, {}, size)]
    )
    return {**scored, "iteration": 1, "proposals": proposals, "round_written": True}


def filter_node(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Drop duplicates, over-long text and leaked meta-prompt markers."""
    ctx = _ctx(runtime)
    seen = [c["id"] for c in stage_history(state, state["stage"])]
    result = filter_proposals(
        state.get("proposals", []), seen, max_chars=ctx.campaign.search.max_prompt_chars
    )
    ctx.emit("filtered", kept=len(result.kept), rejected=len(result.rejected))
    raw = zip(state.get("proposals", []), state.get("proposal_origins", []), strict=False)
    origins = {proposal.strip(): origin for proposal, origin in raw}
    return {
        "pending": [{"prompt": p, "origin": origins.get(p, "proposed")} for p in result.kept],
        "empty_rounds": 0 if result.kept else state.get("empty_rounds", 0) + 1,
        "rejected": result.rejected,
        "proposals": [],
        "proposal_origins": [],
        "round_written": False,
    }


async def score(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """The scorer LLM runs every pending candidate on every stage task's minibatch, all concurrently.

    With a screen (``search.screen``, see ``orchestrator.search.screening``) and a leader in the
    stage, new candidates are first scored on a few examples of each minibatch; only those that pass
    (and that the budget lets finish) are scored on the rest.
    """
    ctx = _ctx(runtime)
    stage, iteration = state["stage"], state["iteration"]
    tasks = ctx.stage_tasks(stage)
    pending = state.get("pending", [])
    prompts = [item["prompt"] for item in pending]
    plan = ctx.plan()
    leader_id = state.get("best", {}).get(stage)
    if plan.screen_rule == "off" or leader_id is None:
        baselines = [item["origin"] == "baseline" for item in pending]
        results = await score_all(ctx, prompts, tasks, baselines=baselines)
        screened_out = [False] * len(pending)
    else:
        leader = by_id(state, stage, leader_id)
        seed = derive_seed(ctx.campaign.run.seed, "screen", stage, iteration)
        results, screened_out = await screen_round(ctx, prompts, tasks, leader, plan, stage, seed)
    scored = []
    for item, per_task, dropped in zip(pending, results, screened_out, strict=True):
        cand = {
            "id": candidate_id(item["prompt"]),
            "prompt": item["prompt"],
            "stage": stage,
            "iteration": iteration,
            "origin": item["origin"],
            "per_task": per_task,
        }
        scored.append({**cand, "screened_out": True} if dropped else cand)
    ctx.emit(
        "scored", stage=stage, iteration=iteration, candidates=len(scored), screened_out=sum(screened_out)
    )
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
    in_stage = previous + scored
    best = choose_best(_contenders(in_stage), policy)
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
        "history": scored,  # appended by the state's reducer
        "scored": [],
        "pending": [],
        "front": pareto_ids(in_stage, ctx.dimensions),
        "best": {**state.get("best", {}), stage: best["id"]},
        "stale": 0 if improved else state.get("stale", 0) + 1,
    }


def promote(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Carry the top-k source prompts (and the baselines) into stage 2 on the target task."""
    ctx = _ctx(runtime)
    ranked = sorted(_contenders(stage_history(state, "source")), key=lambda c: (-c["objective"], c["id"]))
    top = [c["prompt"] for c in ranked[: ctx.campaign.search.promote_top_k]]
    baselines = [p for p in _unique(ctx.campaign.search.baseline_prompts) if p not in top]
    pending = [{"prompt": p, "origin": "promoted"} for p in top]
    pending += [{"prompt": p, "origin": "baseline"} for p in baselines]
    ctx.emit("stage", stage="target", tasks=[ctx.target_task], promoted=len(top))
    return {
        "stage": "target",
        "iteration": 0,
        "stale": 0,
        "empty_rounds": 0,
        "proposals": [],
        "round_written": False,
        "pending": pending,
        "stage_stop": {**state.get("stage_stop", {}), "source": stop_reason(state, ctx) or "done"},
    }


async def final_dev(state: SearchState, runtime: Runtime[SearchContext]) -> dict:
    """Confirm the finalists on dev examples that played no part in choosing them; name the winner.

    The minibatch chose the finalists, so their minibatch scores are biased upwards (the best of many
    noisy scores); only examples outside it (``confirm``: the rest of the dev split) rank them
    fairly. Without such examples (``dev_size <= minibatch_size``) the minibatch ranking stands and
    the result says the winner is unconfirmed.
    """
    ctx = _ctx(runtime)
    ranked = sorted(_contenders(stage_history(state, "target")), key=lambda c: (-c["objective"], c["id"]))
    plan = ctx.plan()  # at small budgets fewer finalists, on fewer fresh examples, than configured
    finalists = ranked[: plan.finalists]
    n_confirm = min(plan.confirm, len(ctx.scorer.split(ctx.target_task, "confirm")))
    operators = operator_stats(state.get("history", []), ctx.store.events(ctx.run_id, "format_ignored"))
    stage_stop = {**state.get("stage_stop", {}), "target": stop_reason(state, ctx) or "done"}
    if n_confirm == 0:
        winner = {**_finalist_row(finalists[0], None), "confirmed": False}
        ctx.emit("finalists", winner=winner["id"], objective=winner["objective"], finalists=0)
        confirmation = {"n": 0, "note": "no dev examples outside the minibatch: winner not confirmed"}
        final = {"finalists": [], "winner": winner, "operators": operators, **confirmation}
        return {"stage_stop": stage_stop, "final": final}
    results = await gather_settled(
        ctx.scorer.score(c["prompt"], ctx.target_task, "confirm", n_confirm) for c in finalists
    )
    rescored = [
        _finalist_row(cand, aggregate({ctx.target_task: result}, ctx.objective))
        for cand, result in zip(finalists, results, strict=True)
    ]
    # A tie on the few fresh examples (common with accuracy alone) goes to the finalist the selection
    # minibatch ranked higher: more evidence, not the id's alphabet.
    ranking = {c["id"]: i for i, c in enumerate(finalists)}
    winner = {**max(rescored, key=lambda c: (c["objective"], -ranking[c["id"]])), "confirmed": True}
    ctx.emit("finalists", winner=winner["id"], objective=winner["objective"], finalists=len(rescored))
    return {
        "stage_stop": stage_stop,
        "final": {
            "finalists": rescored,
            "winner": winner,
            "n": n_confirm,
            "note": "confirmed on fresh dev",
            "operators": operators,
        },
    }


def _finalist_row(cand: dict, confirmed: dict | None) -> dict:
    """A finalist's row: its confirmation scores (or, unconfirmed, its minibatch scores) and the
    minibatch objective that selected it."""
    summary = confirmed or {k: cand[k] for k in ("scores", "normalized", "objective", "per_task")}
    return {
        "id": cand["id"],
        "prompt": cand["prompt"],
        "origin": cand["origin"],
        **summary,
        "selection_objective": cand["objective"],
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
    plan = plan_for(ctx.campaign)  # round caps do not depend on the split sizes
    limit = plan.round_cap(stage)
    if state["iteration"] >= limit:
        return f"iterations ({limit})"
    if state.get("empty_rounds", 0) >= MAX_EMPTY_ROUNDS:
        return f"no new candidates ({MAX_EMPTY_ROUNDS} rounds in a row proposed nothing the filter kept)"
    # Under budget-driven rounds the budget is the knob: patience only hands stage 1's calls to stage 2.
    patience_ends = not plan.budget_rounds or (stage == "source" and plan.round_cap("target") > 0)
    if patience_ends and state.get("stale", 0) >= search.patience:
        return f"patience ({search.patience} rounds without improvement)"
    if target_reached(state, ctx):
        return f"target score {search.target_score} reached"
    return budget_stop(state, ctx)


def budget_stop(state: SearchState, ctx: SearchContext) -> str | None:
    """Why the call budget ends the stage's exploration (it keeps what the end needs), or None."""
    calls_left = ctx.calls_left()
    if calls_left is None:
        return None
    plan = ctx.plan()
    if plan.affords_round(state["stage"], calls_left):
        return None
    return (
        f"budget ({calls_left} calls left; a candidate needs {plan.candidate_calls(state['stage'])} and"
        f" {plan.reserve_after(state['stage'])} are kept for what follows)"
    )


def target_reached(state: SearchState, ctx: SearchContext) -> bool:
    """Whether the current stage's best candidate reaches ``search.target_score``."""
    target = ctx.campaign.search.target_score
    best_id = state.get("best", {}).get(state["stage"])
    if target is None or best_id is None:
        return False
    return by_id(state, state["stage"], best_id)["objective"] >= target


def _contenders(candidates: list[dict]) -> list[dict]:
    """Candidates scored on the whole minibatch: a candidate screened out (or left unfinished) was
    measured on a few examples only, so it may neither lead, nor be promoted, nor be a finalist."""
    return [c for c in candidates if not c.get("screened_out")] or candidates


def _unique(prompts: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for prompt in prompts:
        cid = candidate_id(prompt)
        if cid not in seen:
            seen.add(cid)
            out.append(prompt)
    return out
