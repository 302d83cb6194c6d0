"""What the evaluator needs to know about a task: examples, labels, metrics, output contract, messages.

The orchestrator owns task loading; it hands the evaluator a ``TaskSpec`` and ``Example`` objects.
How a prompt and an example become chat messages is injected too (``MessageRenderer``), so the
evaluator does not depend on how the orchestrator builds them; the default puts the prompt in the
system message and the example's input in the user message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from evaluators.extractors import AnswerExtractor, FirstLineExtractor, LabelSetExtractor
from evaluators.instruction_following import OutputContract
from evaluators.label_calibration import CONTENT_FREE_INPUTS

__all__ = [
    "CALIBRATION_METRICS",
    "Example",
    "LABEL_METRICS",
    "METRIC_NAMES",
    "MessageRenderer",
    "TaskSpec",
    "default_messages",
    "INSTRUCTION_TURNS",
    "user_turn_messages",
]

#: Metrics that need label probabilities (label scoring, or a verbalised confidence).
CALIBRATION_METRICS = ("ece", "brier", "auroc", "auprc_pos", "auprc_neg")
#: Metrics that need a label set.
LABEL_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", *CALIBRATION_METRICS)
#: Every metric the evaluator knows, by name.
METRIC_NAMES = (*LABEL_METRICS, "exact_match", "instruction_following")


@dataclass(frozen=True)
class Example:
    """One task example.

    Attributes:
        input: the text the prompt is applied to.
        target: the gold label (classification) or one or more acceptable answers (free-form).
        id: an optional stable identifier, carried into reports.
    """

    input: str
    target: str | tuple[str, ...]
    id: str | None = None


MessageRenderer = Callable[[str, Example], Sequence[Mapping[str, str]]]


def default_messages(prompt: str, example: Example) -> list[dict[str, str]]:
    """System message = the candidate prompt, user message = the example's input."""
    return [{"role": "system", "content": prompt}, {"role": "user", "content": example.input}]


def user_turn_messages(prompt: str, example: Example) -> list[dict[str, str]]:
    """One user message: the candidate prompt, a blank line, then the example's input (the input alone
    when the prompt is empty). Small instruct models follow an instruction here that they ignore as a
    system message (BENCHMARKS.md, issue 20's screen)."""
    content = f"{prompt}\n\n{example.input}" if prompt else example.input
    return [{"role": "user", "content": content}]


#: Where the candidate prompt sits in the scored chat, by ``scoring.instruction_turn``.
INSTRUCTION_TURNS: dict[str, MessageRenderer] = {"system": default_messages, "user": user_turn_messages}


@dataclass(frozen=True)
class TaskSpec:
    """A task as the evaluator sees it.

    Attributes:
        name: task name, for reports.
        labels: the label set of a classification or multiple-choice task; ``None`` for free-form.
        positive_label: the positive class of a binary task (for AUROC, PR-P and PR-N); defaults to
            the second label.
        metrics: metric names to compute (see ``METRIC_NAMES``); ``None`` picks every metric that the
            task and the scoring mode allow. Named metrics that cannot be computed raise instead.
        contract: the output contract for instruction following; ``None`` means "parsable, non-empty",
            plus "inside the label set" for classification.
        extractor: turns a generated output into an answer; defaults to a ``LabelSetExtractor`` over
            the labels, or the first line for free-form tasks.
        description: what the task is, shown to prompt judges.
        content_free_inputs: inputs without content for contextual calibration (``"N/A"`` in every
            input field, say); ``None`` uses ``label_calibration.CONTENT_FREE_INPUTS``.
    """

    name: str
    labels: tuple[str, ...] | None = None
    positive_label: str | None = None
    metrics: tuple[str, ...] | None = None
    contract: OutputContract | None = None
    extractor: AnswerExtractor | None = None
    description: str = ""
    content_free_inputs: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        where = f"TaskSpec {self.name!r}"
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
            if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
                raise ValueError(
                    f"{where}: labels must be at least two distinct strings, got {self.labels!r}"
                )
        if self.positive_label is not None and (
            self.labels is None or self.positive_label not in self.labels
        ):
            raise ValueError(
                f"{where}: positive_label {self.positive_label!r} is not one of labels {self.labels!r}"
            )
        if self.metrics is not None:
            object.__setattr__(self, "metrics", tuple(self.metrics))
            unknown = [m for m in self.metrics if m not in METRIC_NAMES]
            if unknown:
                raise ValueError(f"{where}: unknown metrics {unknown}; known: {list(METRIC_NAMES)}")
            if self.labels is None and any(m in LABEL_METRICS for m in self.metrics):
                raise ValueError(
                    f"{where}: metrics {[m for m in self.metrics if m in LABEL_METRICS]} need labels"
                )

    def content_free(self) -> tuple[str, ...]:
        """The content-free inputs contextual calibration scores (see ``content_free_inputs``)."""
        return CONTENT_FREE_INPUTS if self.content_free_inputs is None else tuple(self.content_free_inputs)

    @property
    def is_classification(self) -> bool:
        return self.labels is not None

    @property
    def positive_index(self) -> int:
        """Index of the positive label in ``labels`` (binary tasks)."""
        if self.labels is None:
            raise ValueError(f"TaskSpec {self.name!r}: free-form tasks have no positive label")
        return self.labels.index(self.positive_label) if self.positive_label is not None else 1

    def answer_extractor(self) -> AnswerExtractor:
        """The extractor for generated outputs (the configured one, or the default for the task kind)."""
        if self.extractor is not None:
            return self.extractor
        if self.labels is not None:
            return LabelSetExtractor(self.labels)
        return FirstLineExtractor()

    def output_contract(self) -> OutputContract:
        """The configured contract, or the default one (non-empty, parsable, inside the label set)."""
        if self.contract is not None:
            return self.contract
        return OutputContract(labels=self.labels)

    def resolve_metrics(self, *, has_probabilities: bool, has_outputs: bool) -> tuple[str, ...]:
        """The metrics to compute in a given scoring mode.

        Args:
            has_probabilities: label probabilities exist (label scoring or a verbalised confidence).
            has_outputs: generated text exists (not the case with pure label scoring).

        Returns:
            Metric names, in ``METRIC_NAMES`` order.

        Raises:
            ValueError: a metric named in ``metrics`` cannot be computed in this mode.
        """
        possible = set()
        if self.labels is not None:
            possible |= {"accuracy", "balanced_accuracy", "macro_f1"}
            if has_probabilities:
                possible |= set(CALIBRATION_METRICS)
        else:
            possible.add("exact_match")
        if has_outputs:
            possible.add("instruction_following")
        if self.metrics is None:
            return tuple(m for m in METRIC_NAMES if m in possible)
        impossible = [m for m in self.metrics if m not in possible]
        if impossible:
            raise ValueError(
                f"TaskSpec {self.name!r}: metrics {impossible} cannot be computed here: calibration metrics "
                "need label scoring or verbalized_confidence, instruction_following needs generated outputs"
            )
        return tuple(m for m in METRIC_NAMES if m in self.metrics)

    def check_examples(self, examples: Sequence[Example]) -> None:
        """Check the examples fit the task.

        Raises:
            ValueError: no examples, or an example's target is not in the label set (naming its index).
        """
        if not examples:
            raise ValueError(f"TaskSpec {self.name!r}: no examples to evaluate")
        for index, example in enumerate(examples):
            if self.labels is not None and example.target not in self.labels:
                raise ValueError(
                    f"TaskSpec {self.name!r}: example {index} (id={example.id!r}) has target "
                    f"{example.target!r}, not one of labels {list(self.labels)}"
                )
