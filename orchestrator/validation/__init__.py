"""Everything a run would refuse, refused when the campaign loads (``check``, ``--dry-run``, ``run``).

``check_campaign`` runs after the schema: models and their options, the objective's names, the
tasks and their data, the spend limit, that the run's SQLite files can be written. Each error is
one line ``file:line: dotted.path: message``.
Nothing here calls a model.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.config import Campaign
from orchestrator.tasks.task import Task
from orchestrator.validation.locate import Location
from orchestrator.validation.models import check_models
from orchestrator.validation.objective import check_objective
from orchestrator.validation.soft import check_soft
from orchestrator.validation.spend import check_budget_override, check_spend, unpriced_models
from orchestrator.validation.storage import check_storage
from orchestrator.validation.tasks import check_tasks, duplicates_note
from orchestrator.validation.yaml_keys import check_duplicate_keys

__all__ = [
    "Location",
    "check_budget_override",
    "check_campaign",
    "check_duplicate_keys",
    "duplicates_note",
    "unpriced_models",
]


def check_campaign(campaign: Campaign, where: Location, env: Mapping[str, str]) -> dict[str, Task]:
    """Run every load-time check on a schema-valid campaign (task paths already absolute).

    Returns:
        The tasks loaded to check them, by name (what ``load_campaign_tasks`` would return).

    Raises:
        ConfigError: the first problem found, as one line.

    Warns:
        DataWarning: duplicate task inputs were dropped.
    """
    check_models(campaign, where, env)
    check_objective(campaign, where)
    tasks = check_tasks(campaign, where)
    check_soft(campaign, tasks, where)
    check_spend(campaign, where)
    check_storage(campaign, where)
    return tasks
