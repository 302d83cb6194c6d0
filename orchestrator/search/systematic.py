"""Telling a failing backend from a bad prompt, on the baseline prompts.

The baselines are the prompts a user trusts to work. When the scorer fails on most of their examples
with the same error class (timeouts, 5xx after every retry, an answer it cannot parse), or with any
``Fatal`` or ``Unsupported`` error, or when it never answers with one of the task's labels (labels
👍/👎 and a model that says yes/no), the fault is the backend or the campaign, not the prompt: scoring
the baseline at its failure score would let the search "optimize" against an outage and finish with
``0.000 vs 0.000`` and exit code 0. The run stops instead, marked failed with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.backends.base import Fatal, Unsupported
from orchestrator.clip import clip
from orchestrator.errors import SystematicFailure

__all__ = ["ErrorTally", "check_baseline", "check_baseline_answers", "fatal_on_baseline"]


class ErrorTally:
    """The scorer LLM as the evaluator sees it, counting the errors it raises by class.

    Wraps one baseline evaluation (``chat`` and ``score_labels`` pass through unchanged).
    """

    def __init__(self, llm: Any):
        self._llm = llm
        self.by_class: Counter[str] = Counter()
        self.last: dict[str, str] = {}
        self.supports_label_scoring = getattr(llm, "supports_label_scoring", True)

    def _count(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.by_class[name] += 1
        self.last[name] = str(exc)

    async def chat(self, messages: Sequence[Mapping[str, str]], **params: Any) -> Any:
        try:
            return await self._llm.chat(messages, **params)
        except Exception as exc:
            self._count(exc)
            raise

    async def score_labels(self, messages: Sequence[Mapping[str, str]], labels: Sequence[str]) -> Any:
        try:
            return await self._llm.score_labels(messages, labels)
        except Exception as exc:
            self._count(exc)
            raise


def check_baseline(task: str, n: int, tally: ErrorTally) -> None:
    """Raise when one error class hit more than half of a baseline's ``n`` examples on ``task``.

    Raises:
        SystematicFailure: the message names the class, the count, the task and the last error.
    """
    if not tally.by_class:
        return
    name, count = tally.by_class.most_common(1)[0]
    if count * 2 > n:
        raise SystematicFailure(
            f"the scorer failed on {count} of {n} examples of {task} with the baseline prompt "
            f"({name}: {clip(tally.last[name], 160)}); this is the backend or the campaign, not the prompt"
        )


def fatal_on_baseline(task: str, exc: Fatal | Unsupported) -> SystematicFailure:
    """The error a ``Fatal``/``Unsupported`` error on a baseline becomes (the caller raises it)."""
    return SystematicFailure(
        f"the scorer failed on {task} with the baseline prompt ({type(exc).__name__}: {clip(exc, 160)}); "
        "this is the backend or the campaign, not the prompt"
    )


def check_baseline_answers(
    task: str, labels: Sequence[str], predictions: Sequence[Any], outputs: Sequence[str | None]
) -> None:
    """Raise when a baseline got no answer among the task's labels on any of its examples.

    No prompt can make a model answer a label it never gives (yes/no against 👍/👎), so the whole
    budget would go to prompts that all score 0.

    Raises:
        SystematicFailure: naming the task, its labels and one thing the scorer answered instead.
    """
    if not predictions or any(p is not None for p in predictions):
        return
    shown = ", ".join(repr(label) for label in labels[:6]) + (", ..." if len(labels) > 6 else "")
    said = next((o for o in outputs if o), None)
    example = f" (it answered e.g. {clip(said, 40)!r})" if said else ""
    raise SystematicFailure(
        f"the scorer never answered with a label of {task} ({shown}) with the baseline prompt: no parsable "
        f"answer for {len(predictions)}/{len(predictions)} examples{example}; check the task's labels and "
        "the scorer model, not the prompt"
    )
