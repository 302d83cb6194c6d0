"""Errors the orchestrator raises for the user to read. The CLI turns them into one line."""

from __future__ import annotations


class PromptfusionError(Exception):
    """Base of user-facing errors (bad config, bad data, unknown run)."""


class ConfigError(PromptfusionError):
    """A campaign file is invalid. The message names the file, line and dotted path."""


class DataError(PromptfusionError):
    """A task file is invalid. The message names the file and line."""


class RunNotFound(PromptfusionError):
    """No run with that id in the run store."""


class RunLocked(PromptfusionError):
    """Another live process holds the run's lease (the message names its pid and host)."""


class ResumeRefused(ConfigError):
    """The campaign given to a resume changes a setting that what was already scored depends on."""


class SystematicFailure(PromptfusionError):
    """The backend failed the baseline prompts themselves: an outage or a capability gap, not a bad prompt."""


class DataWarning(UserWarning):
    """Task data was changed to be usable (duplicate inputs dropped); the message says what and where."""


class BudgetWarning(UserWarning):
    """The campaign's call budget cannot reach a tested winner: the run will stop with its best so far."""
