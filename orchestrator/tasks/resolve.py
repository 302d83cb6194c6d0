"""The tasks a campaign names: built-in ones by name, others from their files, sampled as configured."""

from __future__ import annotations

import dataclasses
import random

from orchestrator.config import Campaign, TaskConfig
from orchestrator.tasks.builtin import load_builtin_task
from orchestrator.tasks.loaders import load_task
from orchestrator.tasks.task import Task

__all__ = ["load_campaign_tasks", "load_configured_task"]


def load_configured_task(config: TaskConfig, seed: int = 0, max_example_chars: int | None = None) -> Task:
    """Load one task as configured, without duplicate inputs (see ``Task.without_duplicate_inputs``).

    Args:
        config: the task's campaign entry.
        seed: seeds the ``max_examples`` sample.
        max_example_chars: refuse an example longer than this (inputs and target, in characters).

    Raises:
        DataError: unknown built-in name or a bad task file (the message names file and line).
    """
    if config.path:
        task = load_task(
            config.path,
            max_example_chars=max_example_chars,
            name=config.name,
            input_fields=config.input_fields,
            label_field=config.target_field,
            labels=config.labels,
            free_form=config.free_form,
            **({"description": config.description} if config.description else {}),
            **({"family": config.family} if config.family else {}),
        )
    else:
        task = load_builtin_task(config.name)
        overrides = {k: getattr(config, k) for k in ("description", "family") if getattr(config, k)}
        if overrides:
            task = dataclasses.replace(task, **overrides)
    if config.split is not None:
        task = dataclasses.replace(task, split_fractions=tuple(config.split))
    task = task.without_duplicate_inputs()
    if config.max_examples and len(task.examples) > config.max_examples:
        rng = random.Random(f"{task.name}:sample:{seed}")
        task = dataclasses.replace(task, examples=tuple(rng.sample(task.examples, config.max_examples)))
    return task


def load_campaign_tasks(campaign: Campaign) -> dict[str, Task]:
    """Every source task and the target task, by name.

    Raises:
        DataError: a task cannot be loaded.
    """
    tasks: dict[str, Task] = {}
    for config in [*campaign.tasks.source, campaign.tasks.target]:
        if config.name in tasks:
            continue
        tasks[config.name] = load_configured_task(config, campaign.run.seed, campaign.tasks.max_example_chars)
    return tasks
