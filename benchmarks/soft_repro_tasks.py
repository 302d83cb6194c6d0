"""Built-in tasks (``orchestrator.tasks``) as soft-prompt ``TaskData``: few-shot train/dev plus a test split.

The same conversion as the campaign's soft stage (``orchestrator.soft.data.task_data``): inputs are
rendered by the task itself and end with an answer cue; labels follow with a leading space, so the label set
is scored as the model would continue the text. No instruction is put in the input: in these runs the soft
prompt plays the instruction's part (and text initialisation starts it from the instruction).
"""

from __future__ import annotations

from soft_prompts.data import TaskData


def load_builtin_split(tokenizer, name: str, n_train: int, n_dev: int, n_test: int = 0, split_seed: int = 0):
    """A built-in task as ``(TaskData, test examples, instruction, family)``, in ``tokenizer``'s chat format
    (the soft stage's own: virtual tokens where the system message's content sits; see
    ``orchestrator.soft.data``).

    Args:
        tokenizer: the model's tokenizer.
        name: built-in task name (see ``promptfusion tasks``).
        n_train: training examples kept (few-shot), from the task's seeded train split.
        n_dev: dev examples kept (early stopping, curves).
        n_test: held-out examples kept for the final score (0: none).
        split_seed: seed of the task's stratified split (fixed across runs so all runs see the same data).

    Raises:
        ValueError: the task is free-form (these benchmarks need a label set).
    """
    from orchestrator.soft.data import prompt_examples, task_data
    from orchestrator.tasks import load_builtin_task

    task = load_builtin_task(name)
    if task.labels is None:
        raise ValueError(f"{name}: a classification task is needed")
    splits = task.splits(split_seed)
    data = task_data(task, splits.train[:n_train], splits.dev[:n_dev], tokenizer)
    return data, prompt_examples(task, splits.test[:n_test], tokenizer)[0], task.instruction, task.family


def load_builtin_task_data(tokenizer, name: str, n_train: int, n_dev: int, seed: int = 0) -> TaskData:
    """Only the ``TaskData`` of :func:`load_builtin_split`."""
    return load_builtin_split(tokenizer, name, n_train, n_dev, 0, seed)[0]
