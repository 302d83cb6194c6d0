"""The report's user-facing error."""

from __future__ import annotations

from orchestrator.errors import PromptfusionError

__all__ = ["ReportError"]


class ReportError(PromptfusionError):
    """A run's saved data cannot be reported; the message names the run and the field."""
