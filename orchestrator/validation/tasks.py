"""Checks on ``tasks.*`` at load: unique names, label sets, every task file read, enough examples for
the splits, and duplicate inputs dropped with a warning. The same loader serves the run."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.config import Campaign, TaskConfig
from orchestrator.config.messages import _dotted
from orchestrator.errors import DataError, DataWarning
from orchestrator.tasks.resolve import load_configured_task
from orchestrator.tasks.task import Task
from orchestrator.validation.locate import Location

__all__ = ["check_tasks", "duplicates_note"]


def _entries(campaign: Campaign) -> Iterator[tuple[tuple[Any, ...], TaskConfig]]:
    for index, task in enumerate(campaign.tasks.source):
        yield ("tasks", "source", index), task
    yield ("tasks", "target"), campaign.tasks.target


def check_tasks(campaign: Campaign, where: Location) -> dict[str, Task]:
    """Load every task as the run will and refuse what the run would fail on.

    Returns:
        Task name -> task (duplicates dropped).

    Raises:
        ConfigError: a task name repeated for a different task (the target may be one of the source
            tasks itself, the same entry), a bad label list, a task that cannot be loaded (the
            message adds the data file's own ``file:line``), too few examples for the splits.

    Warns:
        DataWarning: a task file had examples with repeated inputs (dropped before splitting).
    """
    names: dict[str, tuple[Any, ...]] = {}
    configs: dict[str, TaskConfig] = {}
    loaded: dict[str, Task] = {}
    for loc, config in _entries(campaign):
        if configs.get(config.name) == config:
            continue  # the same task again (target = a source task: search on the target alone)
        if config.name in names:
            raise where.error(
                (*loc, "name"),
                f"task name {config.name!r} is already used by {_dotted(names[config.name])}; "
                "every task needs its own name (set name: for a task file)",
            )
        names[config.name], configs[config.name] = loc, config
        _check_labels(config.labels, where, (*loc, "labels"))
        try:
            task = load_configured_task(config, campaign.run.seed, campaign.tasks.max_example_chars)
        except DataError as exc:
            raise where.error((*loc, "path" if config.path else "name"), str(exc)) from None
        _check_splits(task, campaign, where, loc)
        note = duplicates_note(task)
        # Built-in tasks are deduplicated too (the run records it), but only a user's own file is
        # worth a warning: it is the one they can fix.
        if note and config.path:
            warnings.warn(f"{where.error(loc, note)}", DataWarning, stacklevel=2)
        if (rare := rare_labels_note(task)) and config.path:
            warnings.warn(f"{where.error(loc, rare)}", DataWarning, stacklevel=2)
        loaded[config.name] = task
    return loaded


def rare_labels_note(task: Task) -> str | None:
    """``task 'x': label 'Postive' has only one example (data/x.jsonl:7); a typo? ...``: a label
    seen once (a one-row typo turns a 2-class task into a 3-class one). None when every label of
    the data has two or more examples, or the task is free-form."""
    if task.labels is None:
        return None
    seen: dict[str, list[str]] = {}
    for example in task.examples:
        seen.setdefault(example.target, []).append(example.uid)
    rare = [(label, uids[0]) for label, uids in seen.items() if len(uids) < 2]
    if not rare:
        return None
    where = ", ".join(f"{label!r} ({task.source}:{uid.rsplit(':', 1)[-1]})" for label, uid in rare)
    return (
        f"task {task.name!r}: {len(rare)} label{'s' if len(rare) > 1 else ''} with only one example: "
        f"{where}; a typo makes one more class ({len(task.labels)} labels in all): fix the row, or "
        "list the labels (labels: [...]) to refuse any other"
    )


def duplicates_note(task: Task) -> str | None:
    """``task 'x': dropped 3 examples whose input repeats an earlier one, before splitting (e.g.
    data/x.jsonl:12 repeats line 3)``."""
    if not task.dropped_duplicates:
        return None
    dropped, kept = (uid.rsplit(":", 1)[-1] for uid in task.dropped_duplicates[0])
    count = len(task.dropped_duplicates)
    return (
        f"task {task.name!r}: dropped {count} example{'s' if count > 1 else ''} whose input repeats an "
        f"earlier one, before splitting (e.g. {task.source}:{dropped} repeats line {kept})"
    )


def _check_labels(labels: Sequence[str] | None, where: Location, loc: tuple[Any, ...]) -> None:
    if labels is None:
        return
    if len(labels) < 2:
        raise where.error(loc, f"a label set needs two or more labels, got {list(labels)}")
    seen: dict[str, str] = {}
    for index, label in enumerate(labels):
        form = " ".join(label.split()).casefold()
        if form in seen:
            same = "repeats" if seen[form] == label else "differs only in case or spaces from"
            raise where.error((*loc, index), f"label {label!r} {same} label {seen[form]!r}")
        seen[form] = label


def _check_splits(task: Task, campaign: Campaign, where: Location, loc: tuple[Any, ...]) -> None:
    splits = task.splits(campaign.run.seed)
    if splits.dev and splits.test:
        return
    count = len(task.examples)
    sizes = ", ".join(f"{name} {len(splits.get(name))}" for name in ("train", "dev", "test"))
    raise where.error(
        loc,
        f"task {task.name!r} has {count} distinct example{'' if count == 1 else 's'}, "
        f"too few for its splits ({sizes}): "
        "the search scores on dev and the result is measured on test; add examples",
    )
