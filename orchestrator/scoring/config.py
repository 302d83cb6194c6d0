"""The campaign's ``scoring`` section, defined with the rest of the schema in ``orchestrator.config``."""

from __future__ import annotations

from orchestrator.config.scoring import ScoringConfig, ScoringMode

__all__ = ["ScoringConfig", "ScoringMode"]
