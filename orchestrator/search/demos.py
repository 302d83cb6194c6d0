"""Demonstrations: few-shot examples placed in the prompt, searched jointly with the instruction.

Each round (with ``search.demos = k > 0``) one candidate is the current best instruction followed by
up to ``k`` demonstrations bootstrapped from the train split (twice as many are tried): examples
that instruction itself answers right, so the demonstrations agree with what it makes the model do
(MIPROv2's bootstrapped demos).
Train examples only: a demonstration drawn from the minibatch would show the model the answers it
is then scored on. A candidate that already carries demonstrations is re-bootstrapped from its bare
instruction, never stacked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from orchestrator.clip import clip
from orchestrator.search.gather import gather_settled

if TYPE_CHECKING:  # the context imports the plan, which imports this module's call counts
    from orchestrator.search.context import SearchContext

__all__ = ["DEMOS_HEADER", "bootstrap_calls", "instruction_of", "with_demos", "write_demos"]

DEMOS_HEADER = "\n\nExamples of inputs and correct answers:"
_MAX_INPUT_CHARS = 300


def instruction_of(prompt: str) -> str:
    """The bare instruction of a prompt (without its demonstrations, if any)."""
    return prompt.split(DEMOS_HEADER, 1)[0]


def with_demos(instruction: str, demos: Sequence[tuple[str, str]]) -> str:
    """The instruction followed by its demonstrations, one ``Input: ... / Answer: ...`` pair each."""
    shots = "\n\n".join(
        f"Input: {clip(given, _MAX_INPUT_CHARS)}\nAnswer: {answer}" for given, answer in demos
    )
    return f"{instruction}{DEMOS_HEADER}\n\n{shots}"


def per_task(k: int, n_tasks: int) -> int:
    return max(1, -(-k // n_tasks))


def bootstrap_calls(k: int, n_tasks: int) -> int:
    """Scorer calls one bootstrap may make: twice the demonstrations wanted, on each task."""
    return 0 if k <= 0 else n_tasks * 2 * per_task(k, n_tasks)


async def write_demos(ctx: SearchContext, stage: str, best_prompt: str, k: int) -> list[str]:
    """One candidate: the best instruction with ``k`` demonstrations it answers right (none found: no
    candidate)."""
    if k <= 0:
        return []
    base = instruction_of(best_prompt)
    tasks = ctx.stage_tasks(stage)
    wanted = per_task(k, len(tasks))
    results = await gather_settled(ctx.scorer.score(base, task, "train", 2 * wanted) for task in tasks)
    demos: list[tuple[str, str]] = []
    for task, result in zip(tasks, results, strict=True):
        wrong = set(result["wrong"])
        right = [i for i in range(int(result["n"])) if i not in wrong][:wanted]
        demos += ctx.scorer.examples(task, "train", right)
    demos = demos[:k]
    return [with_demos(base, demos)] if demos else []
