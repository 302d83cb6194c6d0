"""Errors about a place in the campaign file: ``file:line: dotted.path: message``, one line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.config.messages import _dotted, _where
from orchestrator.errors import ConfigError

__all__ = ["Location"]


@dataclass(frozen=True)
class Location:
    """The campaign file being checked: its name and its composed YAML tree (for line numbers).

    Attributes:
        source: the file name as the user gave it.
        root: ``yaml.compose``'s node tree of the file (None for an empty file).
    """

    source: str
    root: Any

    def error(self, loc: Sequence[Any], message: str) -> ConfigError:
        """A ``ConfigError`` reading ``file:line: dotted.path: message`` (the line of the deepest key
        along ``loc`` present in the file: a defaulted value points at its nearest written parent)."""
        prefix = _where(self.source, self.root, tuple(loc))
        path = _dotted(tuple(loc))
        return ConfigError(f"{prefix}: {path}: {message}" if path else f"{prefix}: {message}")
