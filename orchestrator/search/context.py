"""What the search nodes need, injected through LangGraph's runtime context (no globals)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.config import Campaign
from orchestrator.search.plan import SearchPlan, plan_for, split_sizes
from orchestrator.store import RunStore

__all__ = ["PromptScorer", "SearchContext", "derive_seed"]


class PromptScorer(Protocol):
    """Scores one prompt on one task split with the scorer LLM and the objective evaluator."""

    async def score(
        self,
        prompt: str,
        task: str,
        split: str,
        limit: int | None = None,
        *,
        baseline: bool = False,
        indices: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """Returns ``{"scores": {dim: raw}, "normalized": {dim: [0,1]}, "objective": float,
        "wrong": [example index], "n": int, "failures": int}`` (JSON-serialisable), on the split's
        first ``limit`` examples or on the examples at ``indices`` (indices stay split positions). A
        ``baseline`` prompt that the backend fails systematically raises ``SystematicFailure``."""
        ...

    def exemplars(self, task: str, k: int, wrong: Sequence[int], seed: int) -> list[tuple[str, str]]:
        """``k`` (input, answer) pairs from the task's train split, starting with examples the
        current best got wrong (indices into the split the wrong list came from)."""
        ...

    def describe(self, task: str) -> tuple[str, str]:
        """(one-line description, answer format) of a task, for the meta-prompt."""
        ...

    def knowledge(self, task: str) -> tuple[tuple[str, ...], str]:
        """(answer labels, empty for a free-form task; the task's own description, possibly empty)
        for the edit operators: what the task says about itself, none of its examples."""
        ...

    def mistakes(self, task: str, result: dict[str, Any], k: int) -> list[tuple[str, str, str]]:
        """Up to ``k`` (input, the scorer's actual output, expected answer) of a minibatch result."""
        ...

    def examples(self, task: str, split: str, indices: Sequence[int]) -> list[tuple[str, str]]:
        """(input, correct answer) of the given examples of one split of ``task``."""
        ...

    def split(self, task: str, split: str) -> tuple:
        """The examples of one split (``minibatch``, ``confirm``, ``dev``, ``test``, ``train``)."""
        ...


@dataclass
class SearchContext:
    """Run-scoped dependencies of every node.

    Attributes:
        campaign: the validated campaign.
        run_id: the run being executed (also the checkpoint thread id).
        reference: the reference LLM gateway (anything with ``async complete(ChatRequest)``).
        scorer: scores prompts on task splits.
        store: the run store.
        source_tasks / target_task: task names of the two stages.
        dimensions: dimension names shown to the reference LLM and used for the Pareto front.
        objective: weighted objective of normalised dimension values (higher is better).
        soft: the soft-prompt stage's dependencies (``orchestrator.soft.twin.SoftStage``: the local twin and
            the task splits), or None when the campaign has no local twin.
        budget: the run's shared budget (anything with ``remaining() -> {"calls": int | None, ...}``);
            None: unlimited. The search stops exploring while enough is left for the end.
        on_event: progress callback ``(kind, payload)``; the CLI draws its live display from it.
    """

    campaign: Campaign
    run_id: str
    reference: Any
    scorer: PromptScorer
    store: RunStore
    source_tasks: Sequence[str]
    target_task: str
    dimensions: Sequence[str]
    objective: Callable[[Mapping[str, float]], float]
    soft: Any = None
    budget: Any = None
    on_event: Callable[[str, Mapping[str, Any]], None] = field(default=lambda kind, payload: None)

    def emit(self, kind: str, **payload: Any) -> None:
        self.store.record_event(self.run_id, kind, payload)
        self.on_event(kind, payload)

    def calls_left(self) -> int | None:
        """Calls the budget still allows (None: no call limit)."""
        if self.budget is None:
            return None
        left = self.budget.remaining()["calls"]
        return None if left is None else int(left)

    def plan(self) -> SearchPlan:
        """The allocation plan with this run's real split sizes."""
        sizes = split_sizes(self.scorer.split, self.source_tasks, self.target_task)
        return plan_for(self.campaign, sizes)

    def stage_tasks(self, stage: str) -> list[str]:
        return list(self.source_tasks) if stage == "source" else [self.target_task]


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from the run seed and a position (stage, iteration, index): stable across runs."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
