"""The discrete search of both stages, and the call budgets of its presets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from orchestrator.config.strict import _Strict

# Exploration calls of the search presets: on top of what the campaign needs to reach a tested winner
# (baselines, promotion, confirmation, held-out test), which the campaign's load adds
# (``orchestrator.validation.reach``); this alone is the budget of a campaign built without loading.
PRESET_CALLS = {"light": 150, "medium": 400, "heavy": 1200}
# Rounds per stage under a preset when the campaign does not set them: the budget ends the search.
PRESET_ROUNDS = 100


class SearchConfig(_Strict):
    """The discrete search (both stages)."""

    preset: Literal["light", "medium", "heavy"] | None = Field(
        None,
        description="When budget.max_calls is unset: the calls a tested winner needs plus light 150, "
        "medium 400 or heavy 1200 calls of exploration; rounds not set explicitly then run until the "
        "budget, less what the end needs, is spent.",
    )

    stage1_iterations: int = Field(3, ge=0, description="Propose-score rounds over the source tasks.")
    stage2_iterations: int = Field(3, ge=0, description="Propose-score rounds on the target task.")
    candidates_per_step: int = Field(
        4, ge=1, le=64, description="Candidates the reference LLM proposes per round."
    )
    overlap_first_round: bool = Field(
        True,
        description="Write stage 1's first candidates while the baseline prompts are being scored "
        "(one reference-LLM round trip less; those candidates see the baselines' text, not their scores).",
    )
    history_top_k: int = Field(
        20, ge=1, description="Earlier prompts shown in the meta-prompt, sorted ascending."
    )
    exemplars: int = Field(3, ge=0, description="Task examples shown in the meta-prompt.")
    reflection: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of each round's candidates written by reflective mutation (a parent from the "
        "per-example Pareto front, revised from its failing outputs) instead of fresh OPRO-style writing.",
    )
    merge: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of each round's candidates written by merging the two front members that are "
        "right on the most different examples (reflection + merge + edits must not exceed 1). Shares "
        "carry across rounds: 0.1 at 4 candidates per round gives one merge every 2.5 rounds.",
    )
    edits: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of each round's candidates made by phrase-level edits without an LLM (GrIPS-"
        "style: insert the task's labels or description, add, delete, swap, paraphrase, reorder phrases) "
        "of a front member.",
    )
    minibatch_size: int = Field(16, ge=1, description="Dev examples per task a candidate is scored on.")
    screen_size: int | None = Field(
        None,
        ge=1,
        description="Screen new candidates on this many minibatch examples per task first (see screen; "
        "None: 3). Racing ('interval'): only those whose accuracy interval overlaps the leader's get "
        "the rest.",
    )
    racing_confidence: float = Field(
        0.95, gt=0.0, lt=1.0, description="Two-sided confidence of the racing intervals (lower: prunes more)."
    )
    screen: Literal["auto", "off", "interval", "paired"] = Field(
        "auto",
        description="How new candidates are screened before the rest of the minibatch: 'paired' (on "
        "screen_size examples, default 3, the leader was scored on; continue only if not worse there), "
        "'interval' (racing above), 'off'; 'auto': paired when budget.max_calls scores fewer than 10 "
        "candidates fully, else interval when screen_size is set, else off.",
    )
    budget_rounds: bool | None = Field(
        None,
        description="With budget.max_calls: rounds run until the budget, less what the end needs, is spent "
        "(stage*_iterations then split exploration between the stages; patience only ends stage 1 early). "
        "None: on whenever budget.max_calls is set; false: the iteration counts cap the rounds.",
    )
    patience: int = Field(2, ge=1, description="Rounds without improvement before a stage stops.")
    target_score: float | None = Field(None, description="Stop a stage once the objective reaches this.")
    promote_top_k: int = Field(3, ge=1, description="Source prompts carried into stage 2.")
    finalists: int = Field(
        3, ge=1, description="Best candidates confirmed on the dev examples outside the minibatch."
    )
    max_prompt_chars: int = Field(1200, ge=20, description="Longer candidates are rejected.")
    baseline_prompts: list[str] = Field(
        default_factory=lambda: ["Answer the question."],
        min_length=1,
        description="Starting prompts, scored first.",
    )

    demos: int = Field(
        0,
        ge=0,
        le=16,
        description="Demonstrations searched jointly with the instruction: each round one candidate is the "
        "best instruction plus this many train examples it answers right (0: none).",
    )

    @model_validator(mode="after")
    def _operator_shares(self) -> SearchConfig:
        total = self.reflection + self.merge + self.edits
        if total > 1.0 + 1e-9:
            raise ValueError(f"reflection + merge + edits is {total:g}; it must not exceed 1")
        return self
