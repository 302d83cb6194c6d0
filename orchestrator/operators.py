"""How the search's per-operator counts read, in the terminal summary and in both reports (the counts
themselves are ``orchestrator.search.reflection.operator_stats``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["operator_summary"]


def operator_summary(name: str, row: Mapping[str, Any]) -> str:
    """One operator's row as words: ``"reflected 1/4 accepted (3 replies ignored the format)"``."""
    text = f"{name} {row['accepted']}/{row['candidates']} accepted"
    ignored = int(row.get("format_ignored", 0))
    if ignored:
        text += f" ({ignored} {'reply' if ignored == 1 else 'replies'} ignored the format: no candidate)"
    return text
