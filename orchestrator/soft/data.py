"""The data of the soft stage: per-task splits (handed to the stage through the context) and their
conversion into ``soft_prompts.data.TaskData``.

The splits are the campaign's own (``Task.splits(seed)``): the test split is the one the discrete prompts
are scored on, so the final comparison is like for like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.config import Campaign
from orchestrator.tasks import Task

__all__ = ["ANSWER_CUE", "SoftSplits", "campaign_splits", "prompt_examples", "soft_inputs", "task_data"]

ANSWER_CUE = "\nAnswer:"


@dataclass(frozen=True)
class SoftSplits:
    """One task's examples for the soft stage.

    Attributes:
        task: the task (label set, input rendering).
        train: training examples (few-shot).
        dev: dev examples for curves and early stopping.
        test: held-out examples for the final comparison (may be empty outside a campaign).
    """

    task: Task
    train: tuple[Any, ...]
    dev: tuple[Any, ...]
    test: tuple[Any, ...] = ()

    @classmethod
    def of(
        cls, task: Task, seed: int, train_examples: int, dev_examples: int, test_examples: int | None = None
    ):
        """The first ``train_examples``/``dev_examples`` of the seeded splits, and the test split."""
        splits = task.splits(seed)
        test = splits.test if test_examples is None else splits.test[:test_examples]
        return cls(task, tuple(splits.train[:train_examples]), tuple(splits.dev[:dev_examples]), tuple(test))

    def task_data(self):
        """``soft_prompts.data.TaskData`` of the train and dev examples."""
        return task_data(self.task, self.train, self.dev)


def campaign_splits(tasks: Mapping[str, Task], campaign: Campaign) -> dict[str, SoftSplits]:
    """The soft stage's splits of every campaign task: dev is a prefix of the search's dev split, test is
    exactly the search's test split."""
    soft, seed = campaign.soft, campaign.run.seed
    dev = min(soft.dev_examples, campaign.tasks.dev_size)
    return {
        name: SoftSplits.of(task, seed, soft.train_examples, dev, campaign.tasks.test_size)
        for name, task in tasks.items()
    }


def soft_inputs(task: Task, examples: Sequence[Any]) -> list[str]:
    """The text a soft prompt is prepended to: the task's input and an answer cue (labels follow)."""
    return [task.render_input(e) + ANSWER_CUE for e in examples]


def prompt_examples(task: Task, examples: Sequence[Any]) -> tuple:
    """``soft_prompts.data.PromptExample`` pairs: the soft input and the target with a leading space."""
    from soft_prompts.data import PromptExample

    texts = soft_inputs(task, examples)
    return tuple(PromptExample(text, " " + e.target) for text, e in zip(texts, examples, strict=True))


def task_data(task: Task, train: Sequence[Any], dev: Sequence[Any]):
    """``soft_prompts.data.TaskData`` for a classification task (labels with a leading space)."""
    from soft_prompts.data import TaskData

    labels = tuple(" " + label for label in task.labels or ())
    return TaskData(
        name=task.name, train=prompt_examples(task, train), dev=prompt_examples(task, dev), labels=labels
    )
