"""The live display of a running campaign: stage, iteration, best scores, calls, spend, ETA, and during the
soft-prompt stage which prompt is training, its step, loss, dev score and time left.

It is drawn from the run's events (the ``on_event`` callback) and the run store's call ledger, so it
shows the same numbers ``promptfusion show`` shows later.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.config import Campaign
from orchestrator.store import RunStore

__all__ = ["LiveDisplay"]


class LiveDisplay:
    """A rich ``Live`` panel updated on every event (and at least once a second).

    Args:
        campaign: the campaign (iteration counts and budget, for progress and spend).
        store_path: the run store to read call totals from.
        console: the rich console to draw on.
    """

    def __init__(self, campaign: Campaign, store_path: str, console: Any):
        from rich.live import Live

        self.campaign = campaign
        self.console = console
        # Opened once the run exists: a resume that fails to find its run must not leave an empty
        # store file behind (RunStore creates one).
        self._store_path = Path(store_path)
        self._store: RunStore | None = None
        self.run_id: str | None = None
        self.stage = "starting"
        self.iteration = 0
        self.best: Mapping[str, Any] = {}
        self.last = "loading tasks and models"
        self.scoring = "-"
        self.scoring_note: str | None = None
        self.steps_done = 0
        search = campaign.search
        # Per stage its baseline selection and its rounds, then finalists and test. A stage that
        # stops early (patience, target reached, the budget's reserve) gives its unused rounds back.
        self._planned = {"source": 1 + search.stage1_iterations, "target": 1 + search.stage2_iterations}
        self._selected = {"source": 0, "target": 0}
        self.steps_total = sum(self._planned.values()) + 2
        self.started = time.monotonic()
        self.soft: Mapping[str, Any] = {}  # the last soft_progress report
        self.soft_done = 0
        self.soft_total = 0
        self._live = Live(self._render(), console=console, refresh_per_second=2, transient=False)

    def __enter__(self) -> LiveDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.update(self._render())
        self._live.__exit__(*exc)
        if self._store is not None:
            self._store.close()

    def finish(self, status: str) -> None:
        """The run ended with ``status``: a finished run shows every step done."""
        if status == "done":
            self.steps_done = self.steps_total
        self._live.update(self._render())

    @property
    def store(self) -> RunStore | None:
        if self._store is None and self._store_path.exists():
            self._store = RunStore(self._store_path)
        return self._store

    def on_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        if kind == "run":
            self.run_id = payload["run_id"]
            self.last = f"run {self.run_id} {'resumed' if payload.get('resumed') else 'started'}"
            if payload.get("resumed") and self.store is not None:  # the steps done before
                for event in self.store.events(self.run_id):
                    self._count_step(event["kind"], event)
        elif kind in ("stage", "selected", "finalists", "test"):
            self._count_step(kind, payload)
            self._on_search(kind, payload)
        elif kind.startswith("soft_"):
            self._on_soft(kind, payload)
        else:
            self._on_other(kind, payload)
        self._live.update(self._render())

    def _count_step(self, kind: str, payload: Mapping[str, Any]) -> None:
        if kind == "selected":
            stage = payload.get("stage")
            if stage in self._selected:
                self._selected[stage] += 1
            self.steps_done += 1
        elif kind in ("finalists", "test"):
            self.steps_done += 1
        elif kind == "soft_trained":
            self.soft_done += 1
            self.steps_done += 1
        elif kind == "soft_start":
            self.soft_total = len(payload["sources"]) + 3
            self.steps_total += self.soft_total
        # A stage's end gives back the rounds it did not run.
        ended = {"stage": "source", "finalists": "target"}.get(kind)
        if ended and not (kind == "stage" and payload.get("stage") != "target"):
            unused = self._planned[ended] - self._selected[ended]
            self._planned[ended] = self._selected[ended]
            self.steps_total = max(self.steps_done, self.steps_total - max(0, unused))

    def _on_other(self, kind: str, payload: Mapping[str, Any]) -> None:
        if kind == "scoring":
            self.scoring = payload["description"]
        elif kind == "scoring_note":  # kept on screen: it qualifies every score shown
            self.scoring_note = payload["note"]
        elif kind == "proposed":
            self.iteration = payload["iteration"]
            self.last = f"{payload['count']} candidates proposed"
        elif kind == "format_ignored":
            self.last = f"warning: {payload['message']}"
        elif kind == "edited":
            self.last = f"{payload['count']} candidates edited ({', '.join(payload['kinds'])})"
        elif kind == "filtered":
            self.last = f"{payload['kept']} kept, {payload['rejected']} rejected by the filter"
        elif kind == "scored":
            self.last = f"{payload['candidates']} candidates scored"

    def _on_search(self, kind: str, payload: Mapping[str, Any]) -> None:
        if kind == "stage":
            self.stage, self.iteration = payload["stage"], 0
            self.last = f"stage {payload['stage']} on {', '.join(payload['tasks'])}"
        elif kind == "selected":
            self.best = payload
        else:  # finalists, test
            self.stage = kind
            self.last = "finalists re-scored on dev" if kind == "finalists" else "held-out test scored"
            flagged = [f"{name} {', '.join(f)}" for name, f in (payload.get("degenerate") or {}).items() if f]
            if flagged:
                self.last += "; constant answers: " + "; ".join(flagged)

    def _on_soft(self, kind: str, payload: Mapping[str, Any]) -> None:
        self._count_step(kind, payload)
        if kind == "soft_start":
            # One prompt per source task, the target from text and from vectors, and the fusion.
            self.stage = "soft"
            self.last = f"soft prompts on {payload['model']}"
        elif kind == "soft_progress":
            self.soft = payload
        elif kind == "soft_trained":
            best = payload.get("best_dev")
            self.last = f"{payload['name']} trained" + (f", best dev {best:.3f}" if best is not None else "")
        elif kind == "soft_warning":
            self.last = f"warning: {payload['message']}"
        elif kind == "soft_skipped":
            self.last = f"soft stage skipped: {payload['reason']}"
        elif kind == "soft_final":
            self.stage = "final"
            self.last = "soft and discrete prompts scored on held-out test"

    def _render(self):
        from rich.markup import escape
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan")
        table.add_column()
        table.add_row("stage", f"{self.stage}  (iteration {self.iteration})")
        table.add_row("scoring", self.scoring)
        if self.scoring_note:
            table.add_row("", Text(f"warning: {self.scoring_note}", style="yellow"))
        if self.best:
            dims = "  ".join(f"{k}={v:.3f}" for k, v in sorted(self.best.get("best_scores", {}).items()))
            table.add_row("best", f"objective {self.best['best_objective']:.4f}")
            table.add_row("", dims)
            for flag in self.best.get("degenerate") or ():  # a constant answer, not a real score
                table.add_row("", f"[yellow]{escape(flag)}[/yellow]")
        if self.soft:
            table.add_row("soft", Text(self._soft_line()))
        table.add_row("calls", self._calls())
        table.add_row("progress", self._progress())
        table.add_row("now", Text(self.last))  # plain text: "source:b:" must not become an emoji
        return table

    def _calls(self) -> str:
        """Calls sent (what the budget counts) apart from cache hits (free): ``172 (18 cached)`` next
        to ``budget: calls 162`` read as an overshoot."""
        store = self.store
        if not self.run_id or store is None:
            return "-"
        sent, tokens, usd = store.spent(self.run_id)
        hits = sum(u["cache_hits"] for u in store.usage(self.run_id).values())
        text = f"{sent} sent, {tokens:,} tokens, ${usd:.4f}; {hits} answered from the cache (free)"
        budget = self.campaign.budget
        limits = [
            f"{name} {used:,} of {limit:,}" if name != "usd" else f"${used:.4f} of ${limit:g}"
            for name, used, limit in (
                ("calls", sent, budget.max_calls),
                ("tokens", tokens, budget.max_tokens),
                ("usd", usd, budget.max_usd),
            )
            if limit is not None
        ]
        return text + (f"  budget: {', '.join(limits)}" if limits else "")

    def _soft_line(self) -> str:
        report = self.soft
        parts = [f"{report['name']} step {report['step']}/{report['max_steps']}"]
        if report.get("loss") is not None:
            parts.append(f"loss {report['loss']:.3f}")
        if report.get("dev") is not None:
            parts.append(f"dev {report['dev']:.3f}")
        if report.get("best_dev") is not None:
            parts.append(f"best {report['best_dev']:.3f}")
        if report.get("eta_s") is not None:
            parts.append(f"~{report['eta_s'] / 60:.1f} min left")
        return (
            ", ".join(parts) + f"  (prompt {min(self.soft_done + 1, self.soft_total)} of {self.soft_total})"
        )

    def _progress(self) -> str:
        done = min(self.steps_done, self.steps_total)
        elapsed = time.monotonic() - self.started
        eta = ""
        if done:
            remaining = elapsed / done * (self.steps_total - done)
            eta = f", about {remaining / 60:.1f} min left"
        return f"{done}/{self.steps_total} steps, {elapsed / 60:.1f} min{eta}"
