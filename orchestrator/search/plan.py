"""The allocation plan: what each step of the search costs in LLM calls, and what the end needs.

One plan serves the run and the dry-run estimate: the search stops exploring a stage when the call
budget left would not cover the next round plus what comes after it (the promotion into stage 2,
the finalists' confirmation, the held-out test), so a budgeted run normally ends ``done`` with a
confirmed, tested winner; ``orchestrator.estimate`` walks the same rounds to predict a run's calls.

Counts are of scorer examples (one call each, one more per judged dimension and candidate) and of
reference proposals (one call each). Cache hits make a real run cheaper, never dearer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from orchestrator.config import Campaign
from orchestrator.search.demos import bootstrap_calls

__all__ = ["SearchPlan", "plan_for", "split_sizes"]

# Distinct prompts the held-out test usually scores: the winner is usually also the stage-1 best, or
# the baseline; three when all differ. The reserve keeps three (the worst case).
TEST_CONTENDERS = 3


@dataclass(frozen=True)
class SearchPlan:
    """Per-step call costs of one campaign.

    Attributes:
        n_source: source tasks (stage 1 scores every candidate on each).
        minibatch: examples per task a candidate is screened on.
        confirm: dev examples of the target, disjoint from the minibatch, finalists are confirmed on.
        test: held-out examples of the target.
        baselines: distinct baseline prompts.
        candidates_per_step: proposals per round.
        promote: prompts scored when stage 2 starts (promoted plus baselines, at most).
        finalists: candidates confirmed on ``confirm``.
        judged: LLM-judged dimensions (one judge call per candidate and task each).
        stage_rounds: most rounds per stage.
        demos: demonstrations per demonstrated candidate (0: none; else each round bootstraps them).
    """

    n_source: int
    minibatch: int
    confirm: int
    test: int
    baselines: int
    candidates_per_step: int
    promote: int
    finalists: int
    judged: int
    stage_rounds: dict[str, int]
    demos: int = 0

    def tasks(self, stage: str) -> int:
        return self.n_source if stage == "source" else 1

    def candidate_calls(self, stage: str) -> int:
        """One proposal, then scored on each of the stage's minibatches (the worst case under racing)."""
        return 1 + self.tasks(stage) * (self.minibatch + self.judged)

    def round_overhead(self, stage: str) -> int:
        """Calls a round makes besides its candidates': the demonstrations' bootstrap (the demonstrated
        candidate itself needs no proposal call)."""
        return max(0, bootstrap_calls(self.demos, self.tasks(stage)) - 1)

    def round_calls(self, stage: str, size: int | None = None) -> int:
        """One propose-and-score round of ``size`` candidates (default: a full round)."""
        size = self.candidates_per_step if size is None else size
        return size * self.candidate_calls(stage) + (self.round_overhead(stage) if size else 0)

    def round_size(self, stage: str, calls_left: int | None) -> int:
        """Candidates the next round of ``stage`` may propose: a full round, or as many as the calls
        left allow with the end kept (0: the stage's exploration is over)."""
        if calls_left is None:
            return self.candidates_per_step
        spare = calls_left - self.reserve_after(stage) - self.round_overhead(stage)
        return max(0, min(self.candidates_per_step, spare // self.candidate_calls(stage)))

    def start_calls(self, stage: str, source_pool: int | None = None) -> int:
        """Scoring the stage's first pool: the baselines in stage 1; in stage 2 the promoted prompts,
        at most ``source_pool`` (the prompts stage 1 scored; None: unknown yet, the worst case)."""
        prompts = self.baselines if stage == "source" else self.promote
        if stage == "target" and source_pool is not None:
            prompts = min(prompts, source_pool)
        return prompts * self.tasks(stage) * (self.minibatch + self.judged)

    def end_calls(self) -> int:
        """Confirming the finalists and the held-out test (the worst case of distinct contenders)."""
        return self.finalists * (self.confirm + self.judged) + TEST_CONTENDERS * (self.test + self.judged)

    def reserve_after(self, stage: str) -> int:
        """Calls to keep for everything after the current stage's exploration."""
        later = self.start_calls("target") if stage == "source" else 0
        return later + self.end_calls()

    def affords_round(self, stage: str, calls_left: int | None) -> bool:
        """Whether a round of at least one candidate fits in ``calls_left`` (None: unlimited) with the
        end kept."""
        return self.round_size(stage, calls_left) > 0

    def minimum_calls(self) -> int:
        """Calls a run needs to reach a tested winner with no exploration round at all."""
        return self.start_calls("source") + self.start_calls("target") + self.end_calls()

    def calls_by_role(self, max_calls: int | None = None) -> dict[str, int]:
        """Calls of a run that plays every round the limits and ``max_calls`` allow (no patience stop,
        no filtered proposal, no cache hit): the run's own stopping rule, walked ahead of time.

        Returns:
            ``{"reference": proposals, "scorer": scored examples, "judge": judged candidates}``.
        """
        used = self.start_calls("source")
        proposed = {"source": 0, "target": 0}  # candidates per stage
        rounds = 0
        for stage in ("source", "target"):
            if stage == "target":
                # The run reserves the worst case but pays for the prompts stage 1 really has, and
                # spends what is left on stage-2 rounds; so does this walk.
                used += self.start_calls("target", self.baselines + proposed["source"])
            for _ in range(self.stage_rounds[stage]):
                size = self.round_size(stage, None if max_calls is None else max_calls - used)
                if size == 0:
                    break
                used += self.round_calls(stage, size)
                proposed[stage] += size
                rounds += 1
        used += self.end_calls()
        # The demonstrated candidate of each round is bootstrapped by the scorer, not proposed.
        reference = sum(proposed.values()) - (rounds if self.demos else 0)
        judge = self.judged * self._judged_candidates(proposed)
        scorer = used - reference - judge
        if max_calls is not None and used > max_calls:  # the budget stops the run before its end
            scorer = max(0, max_calls - reference - judge)
        return {"reference": reference, "scorer": scorer, "judge": judge}

    def _judged_candidates(self, proposed: Mapping[str, int]) -> int:
        """Candidate-task pairs the judges see (each judged dimension once per pair)."""
        scored = self.baselines * self.n_source + self.promote + self.finalists + TEST_CONTENDERS
        return scored + proposed["source"] * self.n_source + proposed["target"]


def plan_for(campaign: Campaign, sizes: Mapping[str, int] | None = None) -> SearchPlan:
    """The allocation plan of ``campaign``.

    Args:
        campaign: the campaign.
        sizes: the real split sizes, ``{"minibatch": largest over the tasks, "confirm": target's,
            "test": target's}`` (a small task holds fewer examples than ``dev_size``/``test_size``);
            None: the configured sizes.
    """
    search, tasks = campaign.search, campaign.tasks
    minibatch = min(search.minibatch_size, tasks.dev_size)
    confirm, test = tasks.dev_size - minibatch, tasks.test_size
    if sizes is not None:
        minibatch, confirm, test = sizes["minibatch"], sizes["confirm"], sizes["test"]
    baselines = len(dict.fromkeys(search.baseline_prompts))
    judged = len(campaign.objective.judge_dimensions) if campaign.models.judge is not None else 0
    # A target that is also a source task reuses the promoted prompts' minibatch results.
    promote = 0 if tasks.target.name in {t.name for t in tasks.source} else search.promote_top_k + baselines
    return SearchPlan(
        n_source=len(tasks.source),
        minibatch=minibatch,
        confirm=confirm,
        test=test,
        baselines=baselines,
        candidates_per_step=search.candidates_per_step,
        promote=promote,
        finalists=search.finalists,
        judged=judged,
        stage_rounds={"source": search.stage1_iterations, "target": search.stage2_iterations},
        demos=search.demos,
    )


def split_sizes(
    split: Callable[[str, str], Sequence], source_tasks: Sequence[str], target: str
) -> dict[str, int]:
    """The real split sizes ``plan_for`` takes, read through ``split(task, name) -> examples``."""
    return {
        "minibatch": max(len(split(t, "minibatch")) for t in [*source_tasks, target]),
        "confirm": len(split(target, "confirm")),
        "test": len(split(target, "test")),
    }
