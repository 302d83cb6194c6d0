"""Loading a campaign for a command: the library validates, the CLI prints its warnings as lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from orchestrator.config import Campaign

__all__ = ["load_for_command", "load_with_tasks_for_command"]


def load_for_command(path: Path, *, allow_unpriced: bool = False) -> Campaign:
    """``load_campaign(path)``, printing each ``DataWarning`` and ``BudgetWarning`` as ``warning: ...``.

    Args:
        path: the campaign file.
        allow_unpriced: the ``--allow-unpriced`` flag (False: as the file says).
    """
    return load_with_tasks_for_command(path, allow_unpriced=allow_unpriced)[0]


def load_with_tasks_for_command(
    path: Path, *, allow_unpriced: bool = False, max_calls_overridden: bool = False
) -> tuple[Campaign, dict[str, Any]]:
    """``load_for_command``, and the tasks its validation loaded (name -> task).

    ``max_calls_overridden``: ``--max-calls`` replaces the file's ``budget.max_calls``, so the file's
    warning about it is not shown (the command checks the flag's value instead)."""
    from orchestrator.errors import BudgetWarning
    from orchestrator.load_warnings import say_load_warnings
    from orchestrator.loading import load_campaign_and_tasks

    skip = (BudgetWarning,) if max_calls_overridden else ()
    loaded, _ = say_load_warnings(
        lambda: load_campaign_and_tasks(path, allow_unpriced=True if allow_unpriced else None),
        write=lambda line: typer.echo(line, err=True),
        skip=skip,
    )
    return loaded
