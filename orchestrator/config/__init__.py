"""The campaign configuration: pydantic models, loaded from YAML, with errors a person can act on.

Every field has a default that works (the embedded local model on built-in tasks) and a one-line
description. Unknown keys are refused with a suggestion; every error names the file, the line and
the dotted path, e.g. ``campaign.yaml:7: models.scorer.temprature: unknown key (did you mean
'temperature'?)``. API keys are never part of the config: only the name of the environment
variable that holds them, checked at load time.

One module per section (``models``, ``tasks``, ``search``, ``objective``, ``budget``, ``soft``,
``run``, ``scoring``), the whole ``campaign`` and the ``messages`` of load errors. This is the schema,
the bottom layer: the checks (``orchestrator.validation``) sit above it, and reading a campaign file
(``orchestrator.loading``: YAML, schema, checks) above both.
"""

from __future__ import annotations

from orchestrator.config.budget import BudgetConfig
from orchestrator.config.campaign import Campaign
from orchestrator.config.models import EMBEDDED_MODEL, ModelConfig, ModelsConfig
from orchestrator.config.objective import ObjectiveConfig
from orchestrator.config.run import RunConfig
from orchestrator.config.scoring import ScoringConfig
from orchestrator.config.search import PRESET_CALLS, PRESET_ROUNDS, SearchConfig
from orchestrator.config.soft import SoftConfig
from orchestrator.config.tasks import TaskConfig, TasksConfig

__all__ = [
    "EMBEDDED_MODEL",
    "PRESET_CALLS",
    "PRESET_ROUNDS",
    "BudgetConfig",
    "Campaign",
    "ModelConfig",
    "ModelsConfig",
    "ObjectiveConfig",
    "RunConfig",
    "ScoringConfig",
    "SearchConfig",
    "SoftConfig",
    "TaskConfig",
    "TasksConfig",
]
