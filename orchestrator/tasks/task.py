"""A task: labelled examples, how to show them to a model, how to score answers, and seeded splits."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SPLIT_NAMES", "Example", "Task", "TaskSplits"]

SPLIT_NAMES = ("train", "dev", "test")


@dataclass(frozen=True)
class Example:
    """One example.

    Attributes:
        uid: a stable id (``task:line``), usable as a cache or ledger key.
        inputs: input field name -> text.
        target: the gold label (classification) or reference answer (free form).
    """

    uid: str
    inputs: Mapping[str, str]
    target: str


@dataclass(frozen=True)
class TaskSplits:
    """Disjoint train/dev/test examples drawn from one task with one seed."""

    train: tuple[Example, ...]
    dev: tuple[Example, ...]
    test: tuple[Example, ...]

    def get(self, name: str) -> tuple[Example, ...]:
        """The split called ``name`` (``train``, ``dev`` or ``test``).

        Raises:
            KeyError: another name.
        """
        if name not in SPLIT_NAMES:
            raise KeyError(f"unknown split {name!r}; use one of {list(SPLIT_NAMES)}")
        return getattr(self, name)


@dataclass(frozen=True)
class Task:
    """A classification or free-form task.

    Attributes:
        name: a short identifier (``sports_understanding``).
        examples: all examples, before splitting.
        input_fields: the input field names, in display order.
        label_field: the name of the answer column in the source file.
        labels: the label set of a classification task; None for a free-form answer.
        description: what the task is about, in a sentence or two.
        instruction: a sensible starting prompt (the source's own instruction for built-in tasks).
        family: tasks of one family are related (same skill), so prompts can transfer between them.
        metrics: metric names for the evaluator (``evaluators.task.METRIC_NAMES``); None computes
            every metric the task and the scoring mode allow (accuracy, macro-F1, and calibration
            when label probabilities exist; exact match for free-form answers).
        source: where the data comes from (file path or citation).
        split_fractions: train/dev/test fractions; they must sum to 1.
        dropped_duplicates: ``(dropped uid, kept uid)`` of examples removed because their input
            repeats an earlier example's (see ``without_duplicate_inputs``).

    Raises:
        ValueError: invalid fields, or an example whose target is outside ``labels`` or that lacks
            an input field (the message names the example's uid).
    """

    name: str
    examples: tuple[Example, ...]
    input_fields: tuple[str, ...] = ("input",)
    label_field: str = "label"
    labels: tuple[str, ...] | None = None
    description: str = ""
    instruction: str = ""
    family: str | None = None
    metrics: tuple[str, ...] | None = None
    source: str = ""
    split_fractions: tuple[float, float, float] = (0.5, 0.25, 0.25)
    dropped_duplicates: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a task needs a name")
        if not self.input_fields:
            raise ValueError(f"task {self.name!r}: needs at least one input field")
        if self.labels is not None:
            if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
                raise ValueError(f"task {self.name!r}: needs >= 2 distinct labels, got {self.labels}")
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-9:
            raise ValueError(f"task {self.name!r}: split_fractions must be 3 numbers summing to 1")
        if any(f < 0 for f in self.split_fractions):
            raise ValueError(f"task {self.name!r}: split_fractions must be >= 0")
        label_set = set(self.labels or ())
        for example in self.examples:
            missing = [f for f in self.input_fields if f not in example.inputs]
            if missing:
                raise ValueError(f"task {self.name!r}: example {example.uid} lacks input field(s) {missing}")
            if self.labels is not None and example.target not in label_set:
                raise ValueError(
                    f"task {self.name!r}: example {example.uid} has label {example.target!r}, "
                    f"not in {list(self.labels)}"
                )

    @property
    def is_classification(self) -> bool:
        """True when answers come from a fixed label set (label-likelihood scoring applies)."""
        return self.labels is not None

    def without_duplicate_inputs(self) -> Task:
        """This task with every example whose inputs equal an earlier example's (up to surrounding
        whitespace) removed, the first kept.

        A repeated input would land in train and test alike and inflate held-out scores. The removed
        examples are listed in ``dropped_duplicates`` with the uid of the one kept.
        """
        kept: dict[tuple[tuple[str, str], ...], Example] = {}
        dropped = []
        for example in self.examples:
            # Surrounding whitespace does not make an input new (a pasted copy with a trailing space).
            key = tuple(sorted((name, value.strip()) for name, value in example.inputs.items()))
            if key in kept:
                dropped.append((example.uid, kept[key].uid))
            else:
                kept[key] = example
        if not dropped:
            return self
        return dataclasses.replace(
            self,
            examples=tuple(kept.values()),
            dropped_duplicates=(*self.dropped_duplicates, *dropped),
        )

    def render_input(self, example: Example) -> str:
        """The example's input as text: the value alone for one field, ``Field: value`` lines otherwise."""
        if len(self.input_fields) == 1:
            return example.inputs[self.input_fields[0]]
        return "\n".join(f"{_title(name)}: {example.inputs[name]}" for name in self.input_fields)

    def splits(self, seed: int = 0) -> TaskSplits:
        """Split the examples into train/dev/test with ``split_fractions``, reproducibly.

        Classification tasks are split per label (stratified), so each split keeps the label mix.
        Every non-empty fraction gets at least one example when there are enough examples.

        Args:
            seed: the shuffling seed; the same seed always gives the same splits.

        Returns:
            The three splits, each in a seeded random order.
        """
        rng = random.Random(f"{self.name}:{seed}")
        if self.labels is not None:
            strata = [[e for e in self.examples if e.target == label] for label in self.labels]
        else:
            strata = [list(self.examples)]
        parts: list[list[Example]] = [[], [], []]
        for stratum in strata:
            rng.shuffle(stratum)
            for part, chunk in zip(parts, _cut(stratum, self.split_fractions), strict=True):
                part.extend(chunk)
        _ensure_non_empty(parts, self.split_fractions)
        for part in parts:
            rng.shuffle(part)
        return TaskSplits(*(tuple(part) for part in parts))

    def split(self, name: str, seed: int = 0) -> tuple[Example, ...]:
        """One split by name (see ``splits``).

        Raises:
            KeyError: an unknown split name.
        """
        return self.splits(seed).get(name)


def _title(field_name: str) -> str:
    return field_name.replace("_", " ").capitalize()


def _cut(items: Sequence[Example], fractions: Sequence[float]) -> list[list[Example]]:
    n = len(items)
    n_train = round(n * fractions[0])
    n_dev = round(n * (fractions[0] + fractions[1])) - n_train
    return [list(items[:n_train]), list(items[n_train : n_train + n_dev]), list(items[n_train + n_dev :])]


def _ensure_non_empty(parts: list[list[Example]], fractions: Sequence[float]) -> None:
    """Move one example into each empty split that should have some, from the largest split."""
    for index, fraction in enumerate(fractions):
        if fraction > 0 and not parts[index]:
            donor = max(range(3), key=lambda i: len(parts[i]))
            if len(parts[donor]) > 1:
                parts[index].append(parts[donor].pop())
