"""The live display marks a best candidate, or a held-out contender, that gives one answer for >= 90%."""

from __future__ import annotations

import io

from rich.console import Console

from orchestrator.cli.live import LiveDisplay
from orchestrator.loading import parse_campaign


def _text(display: LiveDisplay) -> str:
    out = Console(file=io.StringIO(), width=160)
    out.print(display._render())
    return out.file.getvalue()


def test_a_constant_best_candidate_and_test_contender_are_flagged(tmp_path):
    campaign = parse_campaign("", env={})
    display = LiveDisplay(campaign, str(tmp_path / "store.sqlite"), Console(file=io.StringIO()))
    selected = {"best_objective": 0.5, "best_scores": {"balanced_accuracy": 0.5}, "degenerate": []}
    display.on_event("selected", selected)
    assert "answers" not in _text(display)
    display.on_event("selected", {**selected, "degenerate": ["strategyqa: answers 'No' for 15/16"]})
    assert "strategyqa: answers 'No' for 15/16" in _text(display)
    display.on_event("test", {"baseline": 0.5, "degenerate": {"baseline": ["t: answers 'Yes' for 58/60"]}})
    assert "constant answers: baseline t: answers 'Yes' for 58/60" in _text(display)
    assert display.store is None  # no store file is created by the display itself
