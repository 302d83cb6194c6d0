"""Checks on ``soft.*`` at load: the soft stage trains on, and is measured by, label scores, so every task it
tunes a prompt for needs a label set. Refused here, before any call, rather than after the discrete search."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.config import Campaign
from orchestrator.tasks.task import Task
from orchestrator.validation.locate import Location

__all__ = ["check_soft"]


def check_soft(campaign: Campaign, tasks: Mapping[str, Task], where: Location) -> None:
    """Refuse an enabled soft stage with a task it cannot measure, or a batch its processes cannot share.

    Raises:
        ConfigError: at ``soft.enabled``, naming the free-form task and where it is configured; at
            ``soft.batch_size`` when it is not a multiple of ``soft.processes``.
    """
    if not campaign.soft.enabled:
        return
    soft = campaign.soft
    if campaign.scoring.instruction_turn != "system":
        raise where.error(
            ("soft", "enabled"),
            "the soft stage puts its virtual tokens where the system message sits, and "
            f"scoring.instruction_turn is {campaign.scoring.instruction_turn!r}; set it to system or "
            "soft.enabled: false",
        )
    if soft.processes > 1 and soft.batch_size % soft.processes:
        raise where.error(
            ("soft", "batch_size"),
            f"{soft.batch_size} examples per step do not split evenly over soft.processes: {soft.processes}; "
            "use a multiple of the process count (each process trains on an equal shard)",
        )
    entries = [(("tasks", "source", i), t.name) for i, t in enumerate(campaign.tasks.source)]
    entries.append((("tasks", "target"), campaign.tasks.target.name))
    for loc, name in entries:
        task = tasks.get(name)
        if task is not None and not task.labels:
            dotted = ".".join(str(part) for part in loc)
            raise where.error(
                ("soft", "enabled"),
                f"the soft stage tunes and measures prompts by label scores, and task {name!r} "
                f"({dotted}) has no label set; use a classification task or set soft.enabled: false",
            )
