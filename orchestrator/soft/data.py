"""The data of the soft stage: per-task splits (handed to the stage through the context) and their
conversion into ``soft_prompts.data.TaskData``.

The splits are the campaign's own (``Task.splits(seed)``): the test split is the one the discrete prompts
are scored on, so the final comparison is like for like. So is the format: a soft prompt is trained on the
chat the discrete scorer reads (system message = the instruction, user message = the input, the answer
where the assistant's turn starts), with its virtual tokens in the system message's place and the labels
as the discrete scorer writes them (see ``orchestrator.local_model.chat.instruction_slot``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.config import Campaign
from orchestrator.tasks import Task

__all__ = ["SoftSplits", "campaign_splits", "chat_messages", "prompt_examples", "task_data"]


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

    def task_data(self, tokenizer: Any):
        """``soft_prompts.data.TaskData`` of the train and dev examples, in ``tokenizer``'s chat format."""
        return task_data(self.task, self.train, self.dev, tokenizer)


def campaign_splits(tasks: Mapping[str, Task], campaign: Campaign) -> dict[str, SoftSplits]:
    """The soft stage's splits of every campaign task: dev is a prefix of the search's dev split, test is
    exactly the search's test split."""
    soft, seed = campaign.soft, campaign.run.seed
    dev = min(soft.dev_examples, campaign.tasks.dev_size)
    return {
        name: SoftSplits.of(task, seed, soft.train_examples, dev, campaign.tasks.test_size)
        for name, task in tasks.items()
    }


def chat_messages(task: Task, example: Any, instruction: str = "") -> tuple[tuple[str, str], ...]:
    """The chat the discrete scorer reads for ``example`` (``evaluators.task.default_messages``)."""
    return (("system", instruction), ("user", task.render_input(example)))


def prompt_examples(task: Task, examples: Sequence[Any], tokenizer: Any) -> tuple[tuple, tuple[int, ...]]:
    """``soft_prompts.data.PromptExample`` pairs in the chat format, and the template header they share.

    Each example's ids are the chat after the instruction's slot; its target is the label as the discrete
    scorer scores it (the first tokens of the assistant's answer).
    """
    from orchestrator.local_model.chat import instruction_slot
    from soft_prompts.data import PromptExample

    pairs, headers = [], set()
    for example in examples:
        slot = instruction_slot(tokenizer, chat_messages(task, example))
        headers.add(slot.prefix_ids)
        pairs.append(PromptExample(task.render_input(example), example.target, slot.suffix_ids))
    if len(headers) > 1:
        raise ValueError(f"task {task.name}: the chat template's header differs between examples")
    return tuple(pairs), (headers.pop() if headers else ())


def task_data(task: Task, train: Sequence[Any], dev: Sequence[Any], tokenizer: Any):
    """``soft_prompts.data.TaskData`` of a classification task in ``tokenizer``'s chat format.

    Raises:
        ValueError: the task has no label set (a soft prompt is trained and measured on labels).
    """
    from soft_prompts.data import TaskData

    if not task.labels:
        raise ValueError(f"task {task.name}: the soft stage needs a task with labels")
    train_pairs, header = prompt_examples(task, train, tokenizer)
    dev_pairs, _ = prompt_examples(task, dev, tokenizer)
    return TaskData(
        name=task.name, train=train_pairs, dev=dev_pairs, labels=tuple(task.labels), input_prefix=header
    )
