"""A whole campaign: every section, the search preset applied, the resolved config saved with a run."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from orchestrator.config.budget import BudgetConfig
from orchestrator.config.models import ModelsConfig
from orchestrator.config.objective import ObjectiveConfig
from orchestrator.config.run import RunConfig
from orchestrator.config.scoring import ScoringConfig
from orchestrator.config.search import PRESET_CALLS, PRESET_ROUNDS, SearchConfig
from orchestrator.config.soft import SoftConfig
from orchestrator.config.strict import _Strict
from orchestrator.config.tasks import TasksConfig
from orchestrator.config.tracking import TrackingConfig


class Campaign(_Strict):
    """A whole optimization campaign."""

    name: str = Field("campaign", description="Shown in run listings and reports.")
    models: ModelsConfig = Field(default_factory=ModelsConfig, description="LLM per role.")
    tasks: TasksConfig = Field(default_factory=TasksConfig, description="Source and target tasks.")
    search: SearchConfig = Field(default_factory=SearchConfig, description="Search settings.")
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig, description="Scoring settings.")
    scoring: ScoringConfig = Field(
        default_factory=ScoringConfig, description="How the scorer's answers become scores."
    )
    budget: BudgetConfig = Field(default_factory=BudgetConfig, description="Hard limits.")
    soft: SoftConfig = Field(default_factory=SoftConfig, description="Soft-prompt stage.")
    run: RunConfig = Field(default_factory=RunConfig, description="Store and seed.")
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="MLflow tracking of each run (optional)."
    )
    # True while budget.max_calls holds only the preset's exploration: loading the campaign adds what
    # a tested winner needs (orchestrator.validation.reach.resolve_budget), once.
    _preset_budget: bool = PrivateAttr(False)
    # Load warnings already said about this campaign (orchestrator.load_warnings): said once.
    _said_warnings: frozenset[str] = PrivateAttr(frozenset())

    @model_validator(mode="after")
    def _apply_preset(self) -> Campaign:
        preset = self.search.preset
        if preset is None:
            return self
        if self.budget.max_calls is None:
            self.budget.max_calls = PRESET_CALLS[preset]
            self._preset_budget = True
        for rounds in ("stage1_iterations", "stage2_iterations"):
            if rounds not in self.search.model_fields_set:
                setattr(self.search, rounds, PRESET_ROUNDS)
        return self

    @model_validator(mode="after")
    def _judge_needed(self) -> Campaign:
        if self.objective.judge_dimensions and self.models.judge is None:
            raise ValueError("objective.judge_dimensions needs a models.judge backend")
        return self

    def resolved(self) -> dict[str, Any]:
        """The config as saved with each run: every default filled in, no secrets (keys are env names)."""
        return self.model_dump(mode="json")
