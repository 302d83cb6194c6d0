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


class StoreError(PromptfusionError):
    """A SQLite file of the run (store, checkpoints, response cache) cannot be written or read.

    The message names the file and what to do: ``run store runs/x.sqlite: disk I/O error (is the disk
    full?); free space or move run.store, then resume``."""

    @classmethod
    def wrap(cls, what: str, path: object, error: BaseException) -> StoreError:
        """The error for ``error`` (a ``sqlite3.Error`` or ``OSError``) on the file ``path``."""
        text = str(error) or type(error).__name__
        lowered = text.lower()
        if "full" in lowered or "disk i/o" in lowered or "no space" in lowered or "too large" in lowered:
            hint = " (is the disk full?); free space or move it elsewhere, then resume"
        elif "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
            hint = " (is its folder writable?); fix the permissions or move it elsewhere, then resume"
        else:
            hint = ""
        return cls(f"{what} {path}: {text}{hint}")


class ResumeRefused(ConfigError):
    """The campaign given to a resume changes a setting that what was already scored depends on."""


class SystematicFailure(PromptfusionError):
    """The backend failed the baseline prompts themselves: an outage or a capability gap, not a bad prompt."""


class DataWarning(UserWarning):
    """Task data was changed to be usable (duplicate inputs dropped); the message says what and where."""


class BudgetWarning(UserWarning):
    """The campaign's call budget cannot reach a tested winner: the run will stop with its best so far."""
