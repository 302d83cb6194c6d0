"""What a run produced: ``RunResult``, built from the search graph's final state or read back from the
run store, and the one-line verdict a finished run closes with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.json_safe import json_safe
from orchestrator.store import RunStore

__all__ = ["SAME_OBJECTIVE", "RunResult", "result_from_state", "result_from_store", "summary_line"]

# Held-out objectives closer than this are reported as a match, not as an improvement (a 0.001 gain
# from a slightly lower ECE on 60 examples is noise).
SAME_OBJECTIVE = 0.01


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        run_id: the run's id (use it to resume, show or report).
        status: ``"done"``, ``"stopped"`` (a budget, time limit or stop file; resumable),
            ``"interrupted"`` (Ctrl-C; resumable) or ``"failed"``.
        message: why it stopped, in one line.
        answer: the best prompt so far with its scores and how they were measured (see
            ``orchestrator.search.answer.best_so_far``); the tested winner when done.
        winners: ``{"source": candidate, "target": candidate}`` (best of each stage so far).
        final: finalists confirmed on dev examples outside the minibatch, the winner, held-out test
            scores (when done), candidates and acceptance per operator.
        history: every scored candidate, both stages.
        soft: the soft-prompt stage's curves, gate, vector similarity and final comparison (when run).
        usage: per role and model: calls, cache hits, tokens, cost.
        store: path of the run store.
    """

    run_id: str
    status: str
    message: str
    answer: dict[str, Any] | None = None
    winners: dict[str, Any] = field(default_factory=dict)
    final: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    soft: dict[str, Any] | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    store: str = ""

    @property
    def improved(self) -> bool | None:
        """Whether the winner beat the baseline prompt on the held-out test split (None: not known).

        For label tasks: the verdict of ``evaluators.compare_predictions`` is "improved" (the paired
        bootstrap interval of the difference excludes zero on the positive side and the paired
        permutation test on the same metric agrees). Otherwise (no saved answers): the held-out objective is
        higher by at least ``SAME_OBJECTIVE``.
        """
        test = (self.final or {}).get("test")
        if not test:
            return None
        verdict = _winner_verdict(self.final)
        if verdict is not None:
            return verdict["kind"] == "improved"
        return test["winner"]["objective"] >= test["baseline"]["objective"] + SAME_OBJECTIVE

    def to_dict(self) -> dict[str, Any]:
        return json_safe(self.__dict__)


def result_from_state(
    run_id: str, status: str, message: str, state: Mapping[str, Any], store: RunStore
) -> RunResult:
    """The result of a run from the search graph's state (final, or the last checkpoint of a stop)."""
    from orchestrator.search.answer import best_so_far

    history = list(state.get("history", []))
    winners = {}
    for stage, cid in state.get("best", {}).items():
        winners[stage] = next(c for c in history if c["id"] == cid and c["stage"] == stage)
    return RunResult(
        run_id=run_id,
        status=status,
        message=message,
        answer=best_so_far(state),
        winners=winners,
        final=state.get("final"),
        history=history,
        soft=state.get("soft_report") or _soft_skip(state),
        usage=store.usage(run_id),
        store=str(store.path),
    )


def result_from_store(store: RunStore, run_id: str) -> RunResult:
    """The saved result of a run (what ``promptfusion show`` prints), with its current usage."""
    saved = store.result(run_id) or {}
    summary = store.run(run_id)
    return RunResult(
        run_id=run_id,
        status=summary.status,
        message=summary.message or "",
        answer=saved.get("answer"),
        winners=saved.get("winners", {}),
        final=saved.get("final"),
        history=saved.get("history", []),
        soft=saved.get("soft"),
        usage=store.usage(run_id),
        store=str(store.path),
    )


def _soft_skip(state: Mapping[str, Any]) -> dict[str, Any] | None:
    reason = state.get("soft", {}).get("skipped")
    return {"skipped": reason} if reason else None


def _winner_verdict(final: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The winner's worded verdict against the baseline prompt, from the final comparison."""
    from orchestrator.comparison import final_comparison

    for row in final_comparison(final, None)["rows"]:
        if "winner" in row.get("keys", ()):
            if "baseline" in row["keys"]:
                return {"kind": "same", "text": "is the baseline prompt itself", "metric": None}
            return row.get("verdict")
    return None


def summary_line(result: RunResult) -> str:
    """The message a finished run closes with: the winner against the baseline prompt on held-out data."""
    test = (result.final or {}).get("test") or {}
    if not test:
        return "finished"
    verdict = _winner_verdict(result.final)
    if verdict is not None:
        if verdict["kind"] == "same":
            return "finished: the winner is the baseline prompt itself (no gain on the held-out test)"
        metric = verdict["metric"].replace("_", " ")
        return f"finished: winner vs the baseline prompt on held-out {metric}: {verdict['text']}"
    won, base = test["winner"]["objective"], test["baseline"]["objective"]
    if abs(won - base) < SAME_OBJECTIVE:
        verdict = "matched"
    else:
        verdict = "improved on" if won > base else "did not improve on"
    return f"finished: winner {verdict} the baseline on the held-out test objective ({won:.3f} vs {base:.3f})"
