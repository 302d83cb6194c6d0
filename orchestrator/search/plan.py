"""The allocation plan: what each step of the search costs in LLM calls, and what the end needs.

One plan serves the run and the dry-run estimate: the search stops exploring a stage when the call
budget left would not cover the next round plus what comes after it (the promotion into stage 2,
the finalists' confirmation, the held-out test), so a budgeted run normally ends ``done`` with a
confirmed, tested winner; ``orchestrator.estimate`` walks the same rounds to predict a run's calls.

With a call budget the budget, not a round count, ends exploration (``search.budget_rounds``): the
exploration calls (the budget less what the run needs anyway) are split between the stages in the
ratio of their iteration counts, and rounds go on while a candidate still fits. A screened
candidate (``search.screen``) costs its proposal and its screen up front; the rest of its
minibatch only if it passes, so a round is sized at the screen's cost with one completion kept,
and what the screen saves buys later rounds. At small budgets the end (finalists' confirmation)
shrinks to at most ``END_SHARE`` of the budget, never below two finalists on fresh examples.

Counts are of scorer examples (one call each, one more per judged dimension and candidate) and of
reference proposals (one call each). Cache hits make a real run cheaper, never dearer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from orchestrator.config import Campaign, SearchConfig
from orchestrator.search.demos import bootstrap_calls
from orchestrator.tasks.task import Task

__all__ = ["SearchPlan", "campaign_split_sizes", "plan_for", "screen_setting", "split_sizes"]

# Distinct prompts the held-out test usually scores: the winner is usually also the stage-1 best, or
# the baseline; three when all differ. The reserve keeps three (the worst case).
TEST_CONTENDERS = 3
# Screen size when the screen is on and search.screen_size unset: GEPA's minibatch of three.
DEFAULT_SCREEN = 3
# search.screen auto screens when a call budget scores fewer candidates than this fully.
TIGHT_CANDIDATES = 10
# Share of screened candidates the estimate expects to pass. Interval racing at the usual
# confidence prunes almost nothing on a few examples (worst case); a paired screen against the
# leader lets about half through (0.56-0.58 on benchmarks/search_quality.py at 100 calls). Only
# the estimate uses it; the run pays what really happens.
PASS_RATE = {"interval": 1.0, "paired": 0.5}
# At small budgets the finalists' confirmation and the held-out test take at most this share of
# the budget, with at least MIN_CONFIRM fresh examples per finalist and two finalists.
END_SHARE = 0.2
MIN_CONFIRM = 5
# Budget-driven rounds still stop somewhere (a run whose every call is a cache hit pays nothing).
MAX_BUDGET_ROUNDS = 1000
# A stage whose proposals are all filtered out (duplicates of what it scored, over-long) this many
# rounds in a row has nothing new to score: the edit operators' neighbourhood of an incumbent that
# never changes runs dry (measured: naughty strings at 400 calls, seed 0, no new candidate after
# round 22, then 978 empty rounds, 11 s and 170 MB of checkpoints, until MAX_BUDGET_ROUNDS).
MAX_EMPTY_ROUNDS = 10


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
        stage_rounds: most rounds per stage (under ``budget_rounds``: the split of exploration).
        demos: demonstrations per demonstrated candidate (0: none; else each round bootstraps them).
        screen_rule: ``"off"``, ``"interval"`` or ``"paired"`` (``orchestrator.search.screening``).
        screen: examples per task a new candidate is screened on (0: no screen).
        max_calls: the call budget (None: none).
        budget_rounds: rounds run until ``max_calls`` is spent rather than up to ``stage_rounds``.
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
    screen_rule: str = "off"
    screen: int = 0
    max_calls: int | None = None
    budget_rounds: bool = False

    def tasks(self, stage: str) -> int:
        return self.n_source if stage == "source" else 1

    def candidate_calls(self, stage: str) -> int:
        """One proposal, then scored on each of the stage's minibatches (the worst case: screened
        and finished)."""
        return self.screen_calls(stage) + self.finish_calls(stage)

    def screen_calls(self, stage: str) -> int:
        """What every candidate costs: its proposal and its screen (without a screen: everything)."""
        examples = self.screen if self.screen else self.minibatch
        return 1 + self.tasks(stage) * (examples + self.judged)

    def finish_calls(self, stage: str) -> int:
        """What a candidate that passes its screen costs on top: the rest of the minibatch (the
        screened examples are cache hits), and the judges see it again."""
        if not self.screen:
            return 0
        return self.tasks(stage) * (self.minibatch - self.screen + self.judged)

    def expected_candidate_calls(self, stage: str) -> float:
        """A candidate's cost at the screen's expected pass rate (the estimate's walk)."""
        return self.screen_calls(stage) + PASS_RATE.get(self.screen_rule, 1.0) * self.finish_calls(stage)

    def round_cap(self, stage: str) -> int:
        """Most rounds of ``stage``: its iteration count, or under ``budget_rounds`` as many as the
        budget allows (none for a stage given no share)."""
        if self.budget_rounds:
            return MAX_BUDGET_ROUNDS if self.stage_rounds[stage] > 0 else 0
        return self.stage_rounds[stage]

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
        left allow with the end kept (0: the stage's exploration is over). Each is counted at its
        screen's cost, with one completion kept: the screen decides how many more are finished."""
        if calls_left is None:
            return self.candidates_per_step
        spare = calls_left - self.reserve_after(stage) - self.round_overhead(stage) - self.finish_calls(stage)
        return max(0, min(self.candidates_per_step, spare // self.screen_calls(stage)))

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
        """Calls to keep for everything after the current stage's exploration (under
        ``budget_rounds``, stage 2's share of the exploration too)."""
        if stage != "source":
            return self.end_calls()
        return self.start_calls("target") + self.end_calls() + self.target_share()

    def target_share(self) -> int:
        """Exploration calls stage 2 is owed under ``budget_rounds`` (stage 1 may not spend them)."""
        if not self.budget_rounds or self.max_calls is None:
            return 0
        weights = self.stage_rounds["source"] + self.stage_rounds["target"]
        if weights == 0:
            return 0
        exploration = max(0, self.max_calls - self.minimum_calls())
        return exploration * self.stage_rounds["target"] // weights

    def affords_round(self, stage: str, calls_left: int | None) -> bool:
        """Whether a round of at least one candidate fits in ``calls_left`` (None: unlimited) with the
        end kept."""
        return self.round_size(stage, calls_left) > 0

    def full_candidates(self) -> int | None:
        """Candidates the call budget's exploration affords scored on the whole minibatch, unscreened
        (None: no call budget)."""
        if self.max_calls is None:
            return None
        stage = "source" if self.stage_rounds["source"] > 0 else "target"
        exploration = max(0, self.max_calls - self.minimum_calls())
        return exploration // (1 + self.tasks(stage) * (self.minibatch + self.judged))

    def minimum_calls(self) -> int:
        """Calls a run needs to reach a tested winner with no exploration round at all."""
        return self.start_calls("source") + self.start_calls("target") + self.end_calls()

    def calls_by_role(self, max_calls: int | None = None) -> dict[str, int]:
        """Calls of a run that plays every round the limits and ``max_calls`` allow (no patience stop,
        no filtered proposal, no cache hit, screens passed at their expected rate): the run's own
        stopping rule, walked ahead of time.

        Returns:
            ``{"reference": proposals, "scorer": scored examples, "judge": judged candidates}``.
        """
        used = float(self.start_calls("source"))
        proposed = {"source": 0, "target": 0}  # candidates per stage
        rounds = 0
        for stage in ("source", "target"):
            if stage == "target":
                # The run reserves the worst case but pays for the prompts stage 1 really has, and
                # spends what is left on stage-2 rounds; so does this walk.
                used += self.start_calls("target", self.baselines + proposed["source"])
            for _ in range(self.round_cap(stage)):
                size = self.round_size(stage, None if max_calls is None else int(max_calls - used))
                if size == 0:
                    break
                used += size * self.expected_candidate_calls(stage) + self.round_overhead(stage)
                proposed[stage] += size
                rounds += 1
        used += self.end_calls()
        # The demonstrated candidate of each round is bootstrapped by the scorer, not proposed.
        reference = sum(proposed.values()) - (rounds if self.demos else 0)
        judge = round(self.judged * self._judged_candidates(proposed))
        total = round(used)
        scorer = total - reference - judge
        if max_calls is not None and total > max_calls:  # the budget stops the run before its end
            scorer = max(0, max_calls - reference - judge)
        return {"reference": reference, "scorer": scorer, "judge": judge}

    def _judged_candidates(self, proposed: Mapping[str, int]) -> float:
        """Candidate-task pairs the judges see (each judged dimension once per pair; a screened
        candidate's screen and completion are judged apart)."""
        scored = self.baselines * self.n_source + self.promote + self.finalists + TEST_CONTENDERS
        per_candidate = 1 + (PASS_RATE.get(self.screen_rule, 1.0) if self.screen else 0.0)
        return scored + per_candidate * (proposed["source"] * self.n_source + proposed["target"])


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
    max_calls = campaign.budget.max_calls
    finalists, confirm = _end_sizes(search.finalists, confirm, test, judged, max_calls)
    unscreened = SearchPlan(
        n_source=len(tasks.source),
        minibatch=minibatch,
        confirm=confirm,
        test=test,
        baselines=baselines,
        candidates_per_step=search.candidates_per_step,
        promote=promote,
        finalists=finalists,
        judged=judged,
        stage_rounds={"source": search.stage1_iterations, "target": search.stage2_iterations},
        demos=search.demos,
        max_calls=max_calls,
        budget_rounds=max_calls is not None and search.budget_rounds is not False,
    )
    rule, screen = screen_setting(search, minibatch, unscreened.full_candidates())
    return replace(unscreened, screen_rule=rule, screen=screen)


def screen_setting(search: SearchConfig, minibatch: int, full_candidates: int | None) -> tuple[str, int]:
    """``(rule, examples per task)`` of the screen ``search.screen`` asks for.

    ``auto`` screens (paired) only when a call budget affords fewer than ``TIGHT_CANDIDATES``
    candidates scored on the whole minibatch (``full_candidates``; None: no budget): then finding a
    good candidate at all is what limits the search, and the screen buys breadth. With more, ranking
    many noisy minibatch scores is what limits it, and candidates only half measured do not help.
    ``("off", 0)`` when the minibatch is no larger than the screen (nothing would be saved).
    """
    rule = search.screen
    if rule == "auto":
        tight = full_candidates is not None and full_candidates < TIGHT_CANDIDATES
        rule = "paired" if tight else ("interval" if search.screen_size else "off")
    size = search.screen_size or DEFAULT_SCREEN
    if rule == "off" or size >= minibatch:
        return "off", 0
    return rule, size


def _end_sizes(
    finalists: int, confirm: int, test: int, judged: int, max_calls: int | None
) -> tuple[int, int]:
    """``(finalists, confirmation examples each)``: as configured, or shrunk so that the end takes at
    most ``END_SHARE`` of a small budget: first fewer fresh examples each (not below ``MIN_CONFIRM``),
    then fewer finalists (not below two). Never more than configured."""
    if max_calls is None or confirm == 0:
        return finalists, confirm
    room = int(END_SHARE * max_calls) - TEST_CONTENDERS * (test + judged)
    if finalists * (confirm + judged) <= room:
        return finalists, confirm
    each = max(min(MIN_CONFIRM, confirm), room // finalists - judged)
    if finalists * (each + judged) > room:
        finalists = max(min(2, finalists), room // (each + judged))
    return finalists, min(confirm, each)


def split_sizes(
    split: Callable[[str, str], Sequence], source_tasks: Sequence[str], target: str
) -> dict[str, int]:
    """The real split sizes ``plan_for`` takes, read through ``split(task, name) -> examples``."""
    return {
        "minibatch": max(len(split(t, "minibatch")) for t in [*source_tasks, target]),
        "confirm": len(split(target, "confirm")),
        "test": len(split(target, "test")),
    }


def campaign_split_sizes(campaign: Campaign, tasks: Mapping[str, Task]) -> dict[str, int]:
    """``split_sizes`` of ``campaign`` on its loaded ``tasks``, split as the run splits them."""
    from orchestrator.search.task_scorer import TaskPromptScorer

    scorer = TaskPromptScorer(tasks, campaign, scorer_llm=None)
    return split_sizes(scorer.split, [t.name for t in campaign.tasks.source], campaign.tasks.target.name)
