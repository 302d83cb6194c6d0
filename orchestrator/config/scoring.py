"""The campaign's ``scoring`` section: one pydantic model, extended field by field (``extra="forbid"``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ScoringConfig", "ScoringMode"]

ScoringMode = Literal["auto", "label_scores", "generate"]


class ScoringConfig(BaseModel):
    """How the scorer's answers on labelled tasks become scores (free-form tasks are always generated)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    mode: ScoringMode = Field(
        "auto",
        description="auto: label probabilities when the scorer returns log-probabilities (probed once), "
        "else generated answers; label_scores: require them; generate: always parse generated answers.",
    )
    calibration: Literal["none", "batch", "content_free"] = Field(
        "batch",
        description="Label-probability correction before arg-max and metrics (label scoring only): "
        "none, batch (divide by each label's mean over the examples) or content_free ('N/A' inputs).",
    )
    instruction_turn: Literal["system", "user"] = Field(
        "system",
        description="Where the prompt sits in each scored chat: system (a system message, the input as "
        "the user message) or user (one user message: the prompt, a blank line, the input). Small models "
        "may follow an instruction only in the user turn (BENCHMARKS.md, issue 20). The soft stage needs "
        "system: its virtual tokens take the system message's place.",
    )
