"""Whether the call budget reaches a tested winner, checked when the campaign loads.

A run spends its first calls on what every run needs (the baselines, the promotion into stage 2,
the finalists' confirmation and the held-out test) and explores with the rest. A ``search.preset``
budget is that need plus the preset's exploration, so a preset always ends with a tested winner; an
explicit ``budget.max_calls`` below the need is allowed (a run that stops still answers with its best
so far) but said at load, before any call is paid, not discovered at the end.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from orchestrator.config import PRESET_CALLS, Campaign
from orchestrator.errors import BudgetWarning
from orchestrator.tasks.task import Task
from orchestrator.validation.locate import Location

__all__ = ["budget_shortfall", "needed_calls", "resolve_budget"]


def needed_calls(campaign: Campaign, tasks: Mapping[str, Task]) -> int:
    """Calls a run of ``campaign`` needs to reach a tested winner with no exploration round, on the
    real split sizes of ``tasks`` (under a small ``budget.max_calls`` the plan shrinks the finalists'
    confirmation, so the need is the plan's at that budget: what the dry-run estimate says too)."""
    from orchestrator.search.plan import campaign_split_sizes, plan_for

    return plan_for(campaign, campaign_split_sizes(campaign, tasks)).minimum_calls()


def resolve_budget(campaign: Campaign, tasks: Mapping[str, Task], where: Location) -> Campaign:
    """The campaign with its preset's budget resolved, warning when an explicit budget is too small.

    Args:
        campaign: a campaign that passed the other load-time checks.
        tasks: its tasks, as loaded by those checks.
        where: the campaign file (for the warning's line).

    Returns:
        ``campaign``, with ``budget.max_calls`` = needed calls + the preset's exploration when the
        preset supplied it (and the budget not resolved yet).

    Warns:
        BudgetWarning: ``budget.max_calls`` is below the calls a tested winner needs.
    """
    preset = campaign.search.preset
    if preset is not None and campaign._preset_budget:
        # The need at the end's configured size (no budget to shrink it), then the exploration.
        unlimited = campaign.model_copy(
            update={"budget": campaign.budget.model_copy(update={"max_calls": None})}
        )
        budget = campaign.budget.model_copy(
            update={"max_calls": needed_calls(unlimited, tasks) + PRESET_CALLS[preset]}
        )
        resolved = campaign.model_copy(update={"budget": budget})
        resolved._preset_budget = False
        return resolved
    message = budget_shortfall(campaign, tasks)
    if message is not None:
        warnings.warn(f"{where.error(('budget', 'max_calls'), message)}", BudgetWarning, stacklevel=2)
    return campaign


def budget_shortfall(campaign: Campaign, tasks: Mapping[str, Task]) -> str | None:
    """Why ``budget.max_calls`` cannot reach a tested winner, in one phrase (None: it can, or no
    budget). ``resolve_budget`` says it with the file's line; ``run --max-calls`` with the flag."""
    max_calls = campaign.budget.max_calls
    if max_calls is None:
        return None
    need = needed_calls(campaign, tasks)
    if max_calls >= need:
        return None
    return (
        f"{max_calls} is below the {need} calls this campaign needs to reach a tested winner "
        "(baselines, promotion, confirmation, held-out test): the run will stop with its best so "
        "far, unconfirmed and untested"
    )
