"""The public Python API: ``load_campaign``, ``optimize``, ``resume`` (and async variants).

from orchestrator import load_campaign, optimize
result = optimize(load_campaign("examples/embedded.yaml"), on_event=print)
print(result.final["winner"]["prompt"], result.final["test"]["winner"]["scores"])
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.config import Campaign, load_campaign
from orchestrator.errors import RunNotFound
from orchestrator.runner import EventCallback, RunResult, optimize_async, result_from_store, resume_async
from orchestrator.store import RunStore, new_run_id

__all__ = ["Campaign", "RunResult", "load_campaign", "optimize", "optimize_async", "resume", "resume_async"]


def _campaign(campaign: Campaign | str | Path) -> Campaign:
    return campaign if isinstance(campaign, Campaign) else load_campaign(campaign)


def optimize(
    campaign: Campaign | str | Path,
    *,
    on_event: EventCallback | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunResult:
    """Run a campaign: stage 1 over the source tasks, stage 2 on the target, finalists, test.

    Args:
        campaign: a validated ``Campaign`` or the path of a campaign YAML file.
        on_event: called as ``on_event(kind, payload)`` for progress (stage, proposed, scored, ...).
        environ: where API keys are read (default ``os.environ``).

    Returns:
        The result; ``status`` is ``"stopped"`` when a budget, time limit or stop file ended the run
        and ``"interrupted"`` after Ctrl-C (resume either later); ``answer`` always holds the best
        prompt so far and how it was measured.

    Raises:
        ConfigError, DataError: bad campaign or task data (nothing run).
        LLMError: a backend failed for good (the run is checkpointed: ``resume`` continues it).
    """
    campaign = _campaign(campaign)
    run_id = new_run_id()
    try:
        return asyncio.run(optimize_async(campaign, on_event=on_event, environ=environ, run_id=run_id))
    except KeyboardInterrupt:
        return _saved_result(campaign.run.store, run_id)


def resume(
    run_id: str,
    *,
    store: str | Path = "runs/promptfusion.sqlite",
    budget: Mapping[str, Any] | None = None,
    on_event: EventCallback | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunResult:
    """Continue a stopped, failed or killed run from its last checkpoint (cached calls are free).

    Args:
        run_id: the run to continue.
        store: the run store it was recorded in.
        budget: new limits replacing the saved ones, e.g. ``{"max_calls": 5000}``.
    """
    try:
        return asyncio.run(
            resume_async(run_id, store_path=store, budget=budget, on_event=on_event, environ=environ)
        )
    except KeyboardInterrupt:
        return _saved_result(store, run_id)


def _saved_result(store_path: str | Path, run_id: str) -> RunResult:
    """After Ctrl-C: the best prompt so far, as the interrupted run saved it (re-raise if it never
    started)."""
    store = RunStore(store_path)
    try:
        try:
            saved = store.result(run_id)
        except RunNotFound:
            saved = None
        if saved is None:
            raise KeyboardInterrupt
        return result_from_store(store, run_id)
    finally:
        store.close()
