"""The typed results of the soft stage: what each training leaves on disk (``done.json``) and what the stage
saves in ``result["soft"]`` for the report.

The producer builds these models and dumps them; the report (``orchestrator.report.soft``) validates a saved
run against the same models. Every section of :class:`SoftResults` is optional (a stage stopped early saves
what it has).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

__all__ = [
    "ComparisonRow",
    "CurvePoint",
    "FusionRecord",
    "Gate",
    "Similarity",
    "SoftPlan",
    "SoftResults",
    "SourcePlan",
    "TargetPlan",
    "TrainedPrompt",
]


class _Loose(BaseModel):
    # Newer runs may save more than this version knows; unknown keys are left out, not refused.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CurvePoint(_Loose):
    step: int
    loss: float | None
    dev: float | None = None


class TrainedPrompt(_Loose):
    """One trained prompt (``done.json`` next to it): where it is and how training went.

    Attributes:
        prompt_dir: the saved prompt (its ``soft_prompt.json`` holds the TrainConfig, init, model id and
            data fingerprint).
        curve: loss and dev score by step.
        best_dev: best dev score (None without dev evaluation).
        best_step: the step whose prompt was kept (0: the initial prompt was never beaten).
        trained_past_start: whether the kept prompt differs from its start.
        vector: name of its stored task prompt vector (None when none was stored).
    """

    prompt_dir: str
    curve: list[CurvePoint]
    best_dev: float | None = None
    best_step: int = 0
    trained_past_start: bool = True
    vector: str | None = None


class FusionRecord(TrainedPrompt):
    """A trained gated fusion: its tasks (gate rows), pool members (gate columns) and gate weights."""

    tasks: list[str]
    pool: list[str]
    gate: list[list[float]]


class Gate(_Loose):
    tasks: list[str]
    pool: list[str]
    weights: list[list[float | None]]

    @model_validator(mode="after")
    def _shape(self) -> Gate:
        if len(self.weights) != len(self.tasks):
            raise ValueError(
                f"weights: expected {len(self.tasks)} rows (one per task), got {len(self.weights)}"
            )
        for index, row in enumerate(self.weights):
            if len(row) != len(self.pool):
                expected = f"expected {len(self.pool)} values (one per pool prompt)"
                raise ValueError(f"weights[{index}]: {expected}, got {len(row)}")
        return self


class Similarity(_Loose):
    """Cosine similarity of the source task vectors; ``untrained`` lists tasks left out (zero vectors)."""

    tasks: list[str]
    matrix: list[list[float | None]]
    untrained: list[str] = []

    @model_validator(mode="after")
    def _square(self) -> Similarity:
        size = len(self.tasks)
        if len(self.matrix) != size or any(len(row) != size for row in self.matrix):
            shape = f"{len(self.matrix)} x {sorted({len(r) for r in self.matrix})}"
            raise ValueError(f"matrix: expected {size} x {size} (one row and column per task), got {shape}")
        return self


class ComparisonRow(_Loose):
    name: str
    kind: Literal["discrete", "soft"]
    accuracy: float | None
    ci: list[float] | None = None
    ece: float | None = None
    objective: float | None = None
    predictions: list[str | None] | None = None
    calibration: Literal["none", "batch", "content_free"] | None = None
    not_run: str | None = None  # why this contender could not be built (then no numbers)
    note: str | None = None  # e.g. that this prompt is another row's prompt, unchanged by training
    scores: dict[str, float] | None = None  # the evaluator's own, as the discrete rows carry them
    intervals: dict[str, list[float]] | None = None

    @field_validator("ci")
    @classmethod
    def _interval(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(f"expected [low, high] with low <= high, got {value}")
        return value


class SoftResults(_Loose):
    """``result["soft"]``: every section optional."""

    curves: dict[str, list[CurvePoint]] = {}
    gate: Gate | None = None
    similarity: Similarity | None = None
    comparison: list[ComparisonRow] = []


class SourcePlan(_Loose):
    """A source task in the soft stage: its winning discrete prompt, then its trained soft prompt."""

    prompt: str
    trained: TrainedPrompt | None = None


class TargetPlan(_Loose):
    """The target task: the stage-2 winner's text, then the text- and vector-initialised prompts."""

    prompt: str
    text: TrainedPrompt | None = None
    vectors: TrainedPrompt | None = None
    vectors_not_run: str | None = None  # why the vector-initialised prompt could not be built


class SoftPlan(_Loose):
    """``state["soft"]``: the stage's plan (from the handoff) and what it has trained so far.

    Held in the graph state as ``model_dump(mode="json")`` (plain JSON, so every checkpoint reads
    back); each soft node validates it, returns an updated copy, never mutates it.
    """

    skipped: str | None = None
    model: str | None = None
    dir: str | None = None
    sources: dict[str, SourcePlan] = {}
    target: TargetPlan | None = None
    fusion: FusionRecord | None = None

    def state(self) -> dict:
        """The plan as the graph state holds it."""
        return self.model_dump(mode="json")
