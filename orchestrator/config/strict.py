"""The base of every campaign section: unknown keys are refused, defaults are validated too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)
