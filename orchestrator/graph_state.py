"""What the graph's two stages share: the state they read and write, and the run's injected context.

The discrete search (``orchestrator.search``) and the soft-prompt stage (``orchestrator.soft``) both
import this module; neither imports the other, and ``orchestrator.graph`` wires their nodes together.

The state holds JSON-serialisable values only, so every checkpoint can be read back. A candidate is a
dict::

    {"id": str, "prompt": str, "stage": "source" | "target", "iteration": int,
     "origin": "baseline" | "proposed" | "reflected" | "merged" | "edited" | "demos" | "promoted",
     "scores": {dimension: raw value, averaged over the stage's tasks},
     "normalized": {dimension: value in [0, 1], higher is better},
     "per_task": {task: {"scores": {...}, "objective": float, "wrong": [example index, ...], "n": int}},
     "objective": float, "accepted": bool}
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypedDict

from langgraph.config import get_config

from orchestrator.config import Campaign
from orchestrator.store import RunStore

__all__ = ["GraphContext", "PromptScorer", "SearchState", "Stage", "by_id", "stage_history"]

Stage = Literal["source", "target"]


class SearchState(TypedDict, total=False):
    stage: Stage
    iteration: int
    # Every scored candidate of both stages, in scoring order. A node returns only the candidates it
    # adds: LangGraph's reducer appends them (no node rebuilds the list).
    history: Annotated[list[dict[str, Any]], operator.add]
    proposals: list[str]  # raw candidate prompts from the reference LLM this round
    proposal_origins: list[str]  # the operator that wrote each proposal (a candidate's "origin")
    round_written: bool  # the next round's proposals were written early (stage 1's overlapped round 1)
    pending: list[dict[str, Any]]  # [{"prompt", "origin"}] to score this round
    scored: list[dict[str, Any]]  # candidates scored this round, not yet in history
    rejected: dict[str, str]  # proposals the filter dropped this round, with reasons
    front: list[str]  # ids on the current stage's Pareto front
    best: dict[str, str]  # stage -> id of its best candidate
    stale: int  # rounds without improvement in the current stage
    empty_rounds: int  # rounds in a row of the current stage whose proposals were all filtered out
    stage_stop: dict[str, str]  # stage -> why it stopped
    final: dict[str, Any]  # finalists confirmed outside the minibatch, the winner, held-out test scores
    soft: dict[str, Any]  # the soft-prompt stage's plan and what it has trained (or why it was skipped)
    soft_report: dict[str, Any]  # curves, gate, similarity, final comparison (the report's "soft")


def stage_history(state: SearchState, stage: str) -> list[dict[str, Any]]:
    return [c for c in state.get("history", []) if c["stage"] == stage]


def by_id(state: SearchState, stage: str, candidate_id: str) -> dict[str, Any]:
    for cand in state.get("history", []):
        if cand["id"] == candidate_id and cand["stage"] == stage:
            return cand
    raise KeyError(f"{stage}/{candidate_id}")


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
class GraphContext:
    """Run-scoped dependencies of every node, of both stages (the search adds its plan: ``SearchContext``).

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

    _emitted: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def emit(self, kind: str, **payload: Any) -> None:
        """Record an event in the run store and tell ``on_event``.

        Inside a node the event is keyed by the graph step, the node and its order within the node:
        a node replayed after a crash (its checkpoint was never written) emits the same keys, and the
        store writes nothing twice.
        """
        self.store.record_event(self.run_id, kind, payload, key=self._event_key())
        self.on_event(kind, payload)

    def _event_key(self) -> str | None:
        try:
            metadata = get_config().get("metadata", {})
        except RuntimeError:  # called outside a running graph: nothing can replay it
            return None
        step, node = metadata.get("langgraph_step"), metadata.get("langgraph_node")
        if step is None or node is None:
            return None
        where = f"{step}/{node}"
        self._emitted[where] = order = self._emitted.get(where, 0) + 1
        return f"{where}/{order}"

    def calls_left(self) -> int | None:
        """Calls the budget still allows (None: no call limit)."""
        if self.budget is None:
            return None
        left = self.budget.remaining()["calls"]
        return None if left is None else int(left)

    def stage_tasks(self, stage: str) -> list[str]:
        return list(self.source_tasks) if stage == "source" else [self.target_task]
