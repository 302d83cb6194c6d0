"""The ways candidates are written: by the reference LLM, fresh OPRO-style writing from the
meta-prompt, reflective mutation of a parent from the per-example Pareto front, and merges of two
front members (seeded and cached per request); without an LLM, phrase-level edits of a front member
(``orchestrator.search.edits``)."""

from __future__ import annotations

import random

from orchestrator.backends.base import ChatRequest
from orchestrator.search.candidates import extract_prompt, has_prompt_tag
from orchestrator.search.context import SearchContext, derive_seed
from orchestrator.search.edits import TaskKnowledge, edit_instruction
from orchestrator.search.gather import gather_settled
from orchestrator.search.meta_prompt import build_meta_prompt
from orchestrator.search.reflection import (
    build_merge_prompt,
    build_reflection_prompt,
    complementary_pair,
    example_front,
    pick_parent,
)

__all__ = ["write_candidates", "write_edits", "write_merges", "write_reflections"]

_MERGE_EXAMPLES = 4  # examples shown per parent
_REQUESTS = {"reflected": "reflection", "merged": "merge"}


async def write_candidates(
    ctx: SearchContext,
    stage: str,
    iteration: int,
    history: list[dict],
    best_per_task: dict[str, dict],
    size: int,
) -> list[str]:
    """Ask the reference LLM for ``size`` prompts (at most ``candidates_per_step``: fewer when the call
    budget left allows only a partial round), one request per sample index.

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
    seeds = [derive_seed(ctx.campaign.run.seed, stage, iteration, index) for index in range(size)]
    proposals = await _ask_reference(ctx, [meta] * size, seeds)
    ctx.emit("proposed", stage=stage, iteration=iteration, count=len(proposals))
    return proposals


async def write_reflections(
    ctx: SearchContext, stage: str, iteration: int, history: list[dict], count: int
) -> list[str]:
    """``count`` reflective mutations: each revises a parent drawn from the per-example Pareto front
    after reading examples it got wrong (the scorer's actual outputs) and its scores."""
    if count == 0:
        return []
    search, seed = ctx.campaign.search, ctx.campaign.run.seed
    tasks = ctx.stage_tasks(stage)
    described = [ctx.scorer.describe(task) for task in tasks]
    front = example_front(history)
    per_task = max(1, -(-max(2, search.exemplars) // len(tasks)))
    metas = []
    for index in range(count):
        parent = pick_parent(front, random.Random(derive_seed(seed, stage, iteration, "parent", index)))
        failures = [m for t in tasks for m in ctx.scorer.mistakes(t, parent["per_task"][t], per_task)]
        meta = build_reflection_prompt(
            task_descriptions=[f"{d} Answer format: {fmt}." for d, fmt in described],
            parent_prompt=parent["prompt"],
            scores=parent["scores"],
            failures=failures,
            answer_format=described[0][1] if len(described) == 1 else "the answer format each task asks for",
            max_words=max(20, search.max_prompt_chars // 6),
        )
        metas.append(meta)
    seeds = [derive_seed(seed, stage, iteration, "reflect", index) for index in range(count)]
    proposals = await _ask_reference(ctx, metas, seeds, operator="reflected")
    ctx.emit("reflected", stage=stage, iteration=iteration, count=len(proposals))
    return proposals


async def write_merges(
    ctx: SearchContext, stage: str, iteration: int, history: list[dict], count: int
) -> list[str]:
    """``count`` merges of the two front members right on the most different examples (GEPA's merge);
    none when no two candidates complement each other."""
    pair = complementary_pair(example_front(history)) if count else None
    if pair is None:
        return []
    first, second, first_wins, second_wins = pair
    search, seed = ctx.campaign.search, ctx.campaign.run.seed
    described = [ctx.scorer.describe(task) for task in ctx.stage_tasks(stage)]

    def shown(wins: list[tuple[str, int]]) -> list[tuple[str, str]]:
        rows = []
        for task, index in wins[:_MERGE_EXAMPLES]:
            rows += ctx.scorer.examples(task, "minibatch", [index])
        return rows

    meta = build_merge_prompt(
        task_descriptions=[f"{d} Answer format: {fmt}." for d, fmt in described],
        first_prompt=first["prompt"],
        first_wins=shown(first_wins),
        second_prompt=second["prompt"],
        second_wins=shown(second_wins),
        answer_format=described[0][1] if len(described) == 1 else "the answer format each task asks for",
        max_words=max(20, search.max_prompt_chars // 6),
    )
    seeds = [derive_seed(seed, stage, iteration, "merge", index) for index in range(count)]
    proposals = await _ask_reference(ctx, [meta] * count, seeds, operator="merged")
    ctx.emit("merged", stage=stage, iteration=iteration, count=len(proposals))
    return proposals


def write_edits(
    ctx: SearchContext, stage: str, iteration: int, history: list[dict], count: int, leader: str
) -> list[str]:
    """``count`` phrase-level edits (no LLM call): the first of the stage's leader (hill climbing, as
    GrIPS edits its current best), the others of parents drawn from the per-example Pareto front, as
    reflection draws its parents; a round spreads the edits of one parent over different kinds.

    What an edit may insert comes from the stage's scored instructions and what the tasks say about
    themselves (labels shared by every stage task, descriptions), never from their examples.
    """
    front = example_front(history)
    if count == 0 or not front:
        return []
    tasks = ctx.stage_tasks(stage)
    known = [ctx.scorer.knowledge(task) for task in tasks]
    labels = known[0][0] if all(k[0] == known[0][0] for k in known) else ()
    knowledge = TaskKnowledge(labels=labels, description=" ".join(d for _, d in known if d))
    pool = [c["prompt"] for c in history]
    seed = ctx.campaign.run.seed
    edits: list[str] = []
    kinds: list[str] = []
    made_on: dict[str, list[str]] = {}  # parent -> kinds already made on it this round
    for index in range(count):
        rng = random.Random(derive_seed(seed, stage, iteration, "edit", index))
        parent = leader if index == 0 else pick_parent(front, rng)["prompt"]
        done = made_on.setdefault(parent, [])
        made = edit_instruction(
            parent, pool, knowledge, rng, max_chars=ctx.campaign.search.max_prompt_chars, avoid=done
        )
        if made is not None:
            edits.append(made[0])
            kinds.append(made[1])
            done.append(made[1])
    ctx.emit("edited", stage=stage, iteration=iteration, count=len(edits), kinds=kinds)
    return edits


async def _ask_reference(
    ctx: SearchContext, metas: list[str], seeds: list[int], operator: str | None = None
) -> list[str]:
    """One reference-LLM call per meta-prompt (sample ``index`` of the round, with its seed), all
    concurrently; the prompt each reply proposes.

    For ``operator`` (reflection, merge: templates whose reply reasons before the instruction), a
    reply without ``<prompt>`` tags gives no candidate, since the whole reply would be the reasoning;
    the ``format_ignored`` event says how many (issue 22: a reference model that ignores the format
    used to leave those operators silently empty).
    """
    settings = ctx.campaign.models.reference
    requests = [
        ChatRequest(
            messages=(("user", meta),),
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=seed,
            sample_index=index,
        )
        for index, (meta, seed) in enumerate(zip(metas, seeds, strict=True))
    ]
    replies = await gather_settled(ctx.reference.complete(r) for r in requests)
    if operator is None:
        return [extract_prompt(reply.text) for reply in replies]
    tagged = [reply.text for reply in replies if has_prompt_tag(reply.text)]
    if len(tagged) < len(replies):
        ignored = len(replies) - len(tagged)
        ctx.emit(
            "format_ignored",
            operator=operator,
            ignored=ignored,
            replies=len(replies),
            message=f"the reference model answered {ignored} of {len(replies)} {_REQUESTS[operator]} "
            "requests without <prompt> tags; they gave no candidate",
        )
    return [extract_prompt(text) for text in tagged]
