"""The evaluator's report on one prompt: every dimension, per-example results, failures and cost.

Per-example results are kept so any dimension can get a bootstrap interval and two prompts scored on
the same examples can be compared with a paired bootstrap. ``to_dict`` gives a JSON-serialisable view
for checkpoints and run stores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from evaluators.bootstrap import ConfidenceInterval, PairedComparison, bootstrap_metric_ci, paired_bootstrap
from evaluators.calibration import BinningStrategy
from evaluators.dimensions import Dimension
from evaluators.judges import JudgeVerdict
from evaluators.objective import weighted_objective
from evaluators.resampling import resampled_dimension
from evaluators.scoring import ExampleResult, score_dimensions
from evaluators.task import TaskSpec
from evaluators.usage import UsageTotals

__all__ = ["EvaluationReport"]


@dataclass(frozen=True)
class EvaluationReport:
    """The evaluation of one prompt on one set of examples.

    Attributes:
        prompt: the evaluated prompt.
        task: the task spec.
        targets: the examples' targets, aligned with ``examples``.
        examples: per-example results.
        scores: dimension name -> raw value in the dimension's own units (``nan`` when undefined).
        dimensions: dimension name -> its ``Dimension`` (direction, range).
        metrics: the metric dimensions computed (the rest of ``scores`` are judge dimensions).
        output_judges: output-judge dimensions (averaged over judged examples).
        prompt_verdicts: prompt-judge dimension -> the verdict on the prompt itself.
        failures: failure kind -> count (scorer errors, judge errors, malformed judge replies).
        scoring: ``"label_scores"`` or ``"generate"``.
        calibration_source: ``"label_scores"``, ``"verbalized"`` or ``None``.
        label_calibration: how label probabilities were corrected (``"none"``, ``"batch"``,
            ``"content_free"``); ``"none"`` without label scoring.
        scorer_usage: usage of the scorer calls.
        judge_usage: usage of the judge calls (what judging cost).
        n_bins: ECE bins used.
        binning: ECE binning used.
    """

    prompt: str
    task: TaskSpec
    targets: tuple[str | tuple[str, ...], ...]
    examples: tuple[ExampleResult, ...]
    scores: Mapping[str, float]
    dimensions: Mapping[str, Dimension]
    metrics: tuple[str, ...]
    output_judges: tuple[str, ...] = ()
    prompt_verdicts: Mapping[str, JudgeVerdict] = field(default_factory=dict)
    failures: Mapping[str, int] = field(default_factory=dict)
    scoring: str = "generate"
    calibration_source: str | None = None
    label_calibration: str = "none"
    scorer_usage: UsageTotals = field(default_factory=UsageTotals)
    judge_usage: UsageTotals = field(default_factory=UsageTotals)
    n_bins: int = 10
    binning: BinningStrategy = "uniform"

    @property
    def normalized(self) -> dict[str, float]:
        """Dimension name -> value in [0, 1], 1 best (``nan`` where undefined)."""
        return {name: self.dimensions[name].normalize(value) for name, value in self.scores.items()}

    @property
    def n_failures(self) -> int:
        return sum(self.failures.values())

    def objective(self, weights: Mapping[str, float]) -> float:
        """The weighted objective of the normalised dimensions (see ``weighted_objective``)."""
        return weighted_objective(self.normalized, weights)

    def _metric_on(self, name: str):
        """A function of example indices computing dimension ``name`` on that resample."""
        if name in self.prompt_verdicts:
            raise ValueError(f"{name!r} judges the prompt once; it has no per-example spread")
        if name not in self.scores:
            raise ValueError(f"no dimension {name!r}; scored: {sorted(self.scores)}")
        metrics = (name,) if name in self.metrics else ()
        judges = (name,) if name in self.output_judges else ()
        fast = resampled_dimension(
            name,
            self.examples,
            self.targets,
            self.task,
            is_judge=bool(judges),
            n_bins=self.n_bins,
            binning=self.binning,
        )
        if fast is not None:
            return fast

        def metric(indices: np.ndarray) -> float:
            results = [self.examples[i] for i in indices]
            targets = [self.targets[i] for i in indices]
            values = score_dimensions(
                results, targets, self.task, metrics, judges, n_bins=self.n_bins, binning=self.binning
            )
            return values[name]

        return metric

    def confidence_interval(
        self, name: str, *, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
    ) -> ConfidenceInterval:
        """Bootstrap interval of a dimension's raw value, resampling examples.

        Raises:
            ValueError: unknown dimension, or a prompt-level judge dimension (no per-example values).
        """
        return bootstrap_metric_ci(
            self._metric_on(name),
            len(self.examples),
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )

    def compare(
        self,
        other: EvaluationReport,
        name: str,
        *,
        n_resamples: int = 1000,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> PairedComparison:
        """Paired bootstrap of ``self - other`` on a dimension's raw value (same examples required).

        Raises:
            ValueError: the reports are not on the same examples, or see ``confidence_interval``.
        """
        if self.targets != other.targets:
            raise ValueError("compare needs two reports on the same examples, in the same order")
        return paired_bootstrap(
            self._metric_on(name),
            other._metric_on(name),
            len(self.examples),
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )

    def table(self) -> str:
        """A plain-text table: dimension, raw value, normalised value, direction and range."""
        rows = [("dimension", "value", "normalised", "better", "range")]
        normalized = self.normalized
        for name, value in self.scores.items():
            dim = self.dimensions[name]
            rows.append(
                (
                    name,
                    "n/a" if math.isnan(value) else f"{value:.4f}",
                    "n/a" if math.isnan(normalized[name]) else f"{normalized[name]:.4f}",
                    "higher" if dim.direction == "max" else "lower",
                    f"[{dim.low:g}, {dim.high:g}]",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        footer = (
            f"{len(self.examples)} examples, scoring={self.scoring}, calibration={self.calibration_source}, "
            f"failures={dict(self.failures) or 0}, judge calls={self.judge_usage.calls}, "
            f"judge cost=${self.judge_usage.cost_usd:.4f}"
        )
        return "\n".join([*lines, footer])

    def to_dict(self) -> dict:
        """A JSON-serialisable view (``nan`` becomes ``None``); the task's extractor is not included."""

        def clean(value: float) -> float | None:
            return None if isinstance(value, float) and math.isnan(value) else value

        return {
            "prompt": self.prompt,
            "task": self.task.name,
            "scores": {k: clean(v) for k, v in self.scores.items()},
            "normalized": {k: clean(v) for k, v in self.normalized.items()},
            "dimensions": {k: asdict(d) for k, d in self.dimensions.items()},
            "failures": dict(self.failures),
            "scoring": self.scoring,
            "calibration_source": self.calibration_source,
            "label_calibration": self.label_calibration,
            "prompt_verdicts": {k: asdict(v) for k, v in self.prompt_verdicts.items()},
            "scorer_usage": asdict(self.scorer_usage),
            "judge_usage": asdict(self.judge_usage),
            "examples": [
                {**asdict(r), "judge_scores": dict(r.judge_scores), "target": t}
                for r, t in zip(self.examples, self.targets, strict=True)
            ],
        }
