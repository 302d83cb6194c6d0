"""The live display draws the soft stage from its events (which prompt, step, loss, dev, time left)."""

from __future__ import annotations

import io

from rich.console import Console

from orchestrator.cli.live import LiveDisplay
from orchestrator.config import Campaign


def _text(display: LiveDisplay, console: Console) -> str:
    console.print(display._render())
    return console.export_text()


def test_soft_progress_is_shown_live(tmp_path):
    console = Console(file=io.StringIO(), record=True, width=160)
    with LiveDisplay(Campaign(), str(tmp_path / "store.sqlite"), console) as display:
        total_before = display.steps_total
        display.on_event("soft_start", {"model": "tiny", "sources": ["a", "b"], "steps": 30})
        assert display.steps_total == total_before + 5, "two sources, two targets, one fusion"
        display.on_event(
            "soft_progress",
            {
                "name": "source:a",
                "step": 12,
                "max_steps": 30,
                "loss": 0.512,
                "dev": 0.75,
                "best_dev": 0.8,
                "eta_s": 90.0,
            },
        )
        shown = _text(display, console)
        assert "source:a step 12/30, loss 0.512, dev 0.750, best 0.800, ~1.5 min left" in shown
        assert "(prompt 1 of 5)" in shown
        display.on_event("soft_trained", {"name": "source:a", "steps": 30, "best_dev": 0.8})
        display.on_event(
            "soft_warning", {"name": "source:b", "message": "source:b: not trained past its start"}
        )
        shown = _text(display, console)
        assert "(prompt 2 of 5)" in shown and "warning: source:b: not trained past its start" in shown
