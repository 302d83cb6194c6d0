"""Screening a round's new candidates on a few examples before the rest of the minibatch.

Two rules (``search.screen``, resolved by ``orchestrator.search.plan.screen_setting``):

- ``paired`` (after GEPA's minibatch acceptance): every candidate of a round is scored on the same
  few minibatch examples of each task, drawn afresh each round, where the stage's leader has results
  already; it gets the rest of the minibatch only if it is right on at least as many of them as the
  leader. Comparing on the *same* examples removes the noise of which examples happen to be easy,
  and the leader's results cost nothing. The leader's minibatch results also chose it, so they
  flatter it a little: the screen errs on the strict side, which is why it is the default only when
  the budget is too small to score many candidates fully (then breadth matters more than ranking).
  Drawing anew each round keeps one lucky handful from deciding every round.
- ``interval`` (racing, ``orchestrator.search.racing``): on the first minibatch examples; a candidate
  is dropped only when its Wilson interval lies below the leader's.

Both read per-example correctness (accuracy); the objective's other dimensions are computed on
whatever examples a candidate was scored on. The screen's examples are minibatch examples, so a
candidate that passes pays only for the rest (the response cache answers the screened ones). It is
finished only while the call budget keeps what the stage must leave for later (the plan's reserve),
best screen accuracy first; one left unfinished is marked ``screened_out`` like a dropped one:
measured on a few examples only, it may not lead, be promoted or be a finalist.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.search.context import SearchContext
from orchestrator.search.gather import gather_settled
from orchestrator.search.plan import SearchPlan
from orchestrator.search.racing import accuracy_interval, still_in_contention

__all__ = [
    "paired_counts",
    "passes_paired_screen",
    "score_all",
    "screen_examples",
    "screen_positions",
    "screen_round",
]

PerTask = dict[str, dict[str, Any]]


def screen_positions(sizes: Mapping[str, int], k: int, seed: int) -> dict[str, list[int]]:
    """``k`` minibatch positions per task (all of a smaller minibatch), drawn with ``seed``, sorted."""
    rng = random.Random(seed)
    return {task: sorted(rng.sample(range(n), min(k, n))) for task, n in sizes.items()}


def paired_counts(
    screened: Mapping[str, Mapping[str, Any]], reference: Mapping[str, Mapping[str, Any]]
) -> tuple[int, int]:
    """``(candidate right, reference right)`` on the examples both were screened on, pooled over the
    tasks; each result holds the ``indices`` it was scored on and the ``wrong`` ones among them."""
    mine = theirs = 0
    for task, result in screened.items():
        positions = result.get("indices", range(int(result["n"])))
        reference_wrong = set(reference[task]["wrong"])
        mine += len(positions) - len(result["wrong"])
        theirs += sum(i not in reference_wrong for i in positions)
    return mine, theirs


def passes_paired_screen(
    screened: Mapping[str, Mapping[str, Any]], reference: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Whether a screened candidate is not worse than the reference (the leader) on the same examples."""
    mine, theirs = paired_counts(screened, reference)
    return mine >= theirs


async def score_all(
    ctx: SearchContext,
    prompts: Sequence[str],
    tasks: Sequence[str],
    *,
    baselines: Sequence[bool] | None = None,
    positions: Mapping[str, Sequence[int]] | None = None,
) -> list[PerTask]:
    """Each prompt on each task's minibatch (only its examples at ``positions[task]`` when given),
    all concurrently.

    A baseline prompt (``baselines[i]``) is scored on every example and fails the run when the backend
    fails it systematically (``orchestrator.search.systematic``)."""
    flags = baselines or [False] * len(prompts)
    jobs = [
        ctx.scorer.score(
            prompt,
            task,
            "minibatch",
            baseline=flag,
            indices=None if positions is None else positions[task],
        )
        for prompt, flag in zip(prompts, flags, strict=True)
        for task in tasks
    ]
    flat = await gather_settled(jobs)
    return [{task: flat[i * len(tasks) + j] for j, task in enumerate(tasks)} for i in range(len(prompts))]


async def screen_round(
    ctx: SearchContext,
    prompts: Sequence[str],
    tasks: Sequence[str],
    leader: Mapping[str, Any],
    plan: SearchPlan,
    stage: str,
    seed: int,
) -> tuple[list[PerTask], list[bool]]:
    """Screen every prompt, then finish the minibatch for those that pass, as the budget allows.

    Returns:
        Per prompt its results per task, and whether it was left ``screened_out``.
    """
    positions = screen_examples(ctx, tasks, plan, seed)
    screened = await score_all(ctx, prompts, tasks, positions=positions)
    passed = [_passes(result, leader["per_task"], plan, ctx) for result in screened]
    ranked = sorted((i for i, ok in enumerate(passed) if ok), key=lambda i: -_screen_accuracy(screened[i]))
    finished = set(ranked[: _affordable(ctx, plan, stage, len(ranked))])
    completed = iter(await score_all(ctx, [prompts[i] for i in sorted(finished)], tasks))
    results = [next(completed) if i in finished else r for i, r in enumerate(screened)]
    return results, [i not in finished for i in range(len(prompts))]


def screen_examples(
    ctx: SearchContext, tasks: Sequence[str], plan: SearchPlan, seed: int
) -> dict[str, list[int]]:
    """Minibatch positions per task a round's candidates are screened on: ``plan.screen`` drawn with
    ``seed`` for the paired screen, the first ones for racing (as it always has)."""
    sizes = {task: len(ctx.scorer.split(task, "minibatch")) for task in tasks}
    if plan.screen_rule == "paired":
        return screen_positions(sizes, plan.screen, seed)
    return {task: list(range(min(plan.screen, n))) for task, n in sizes.items()}


def _passes(result: PerTask, leader: PerTask, plan: SearchPlan, ctx: SearchContext) -> bool:
    if plan.screen_rule == "paired":
        return passes_paired_screen(result, leader)
    confidence = ctx.campaign.search.racing_confidence
    return still_in_contention(accuracy_interval(result, confidence), accuracy_interval(leader, confidence))


def _screen_accuracy(result: PerTask) -> float:
    n = sum(int(r["n"]) for r in result.values())
    return (n - sum(len(r["wrong"]) for r in result.values())) / max(1, n)


def _affordable(ctx: SearchContext, plan: SearchPlan, stage: str, wanted: int) -> int:
    """How many passed candidates the budget lets finish with the stage's reserve kept (the round
    was sized to finish at least one)."""
    calls_left = ctx.calls_left()
    if calls_left is None or plan.finish_calls(stage) == 0:
        return wanted
    spare = calls_left - plan.reserve_after(stage)
    return max(0, min(wanted, spare // plan.finish_calls(stage)))
