"""The public Python API: ``load_campaign``, ``optimize``, ``resume`` (and async variants).

from orchestrator import load_campaign, optimize
result = optimize(load_campaign("examples/embedded.yaml"), on_event=print)
print(result.final["winner"]["prompt"], result.final["test"]["winner"]["scores"])
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.config import Campaign
from orchestrator.errors import RunNotFound
from orchestrator.export import export_winner
from orchestrator.load_warnings import say_load_warnings
from orchestrator.loading import load_campaign as _load_campaign
from orchestrator.loading import load_campaign_and_tasks
from orchestrator.runner import EventCallback, RunResult, optimize_async, result_from_store, resume_async
from orchestrator.store import RunStore, new_run_id
from orchestrator.store_location import store_path
from orchestrator.tasks.task import Task

__all__ = [
    "Campaign",
    "RunResult",
    "export_winner",
    "load_campaign",
    "optimize",
    "optimize_async",
    "resume",
    "resume_async",
]


def load_campaign(
    path: str | os.PathLike[str], env: Mapping[str, str] | None = None, *, allow_unpriced: bool | None = None
) -> Campaign:
    """Load and check a campaign file (see ``orchestrator.config.load_campaign``).

    Its warnings (duplicate inputs dropped, a budget too small for a tested winner) are written to
    standard error as ``warning: ...`` lines, once: ``optimize`` does not repeat them.

    Raises:
        ConfigError: what ``orchestrator.config.load_campaign`` refuses.
    """
    campaign, said = say_load_warnings(lambda: _load_campaign(path, env, allow_unpriced=allow_unpriced))
    campaign._said_warnings = said
    return campaign


def _campaign(
    campaign: Campaign | str | Path, allow_unpriced: bool, environ: Mapping[str, str] | None
) -> Campaign:
    """The campaign to run, checked as ``load_campaign`` checks a file (a ``Campaign`` built in
    Python gets the same checks; its errors read ``<campaign>: dotted.path: message``)."""
    return _campaign_and_tasks(campaign, allow_unpriced, environ)[0]


def _campaign_and_tasks(
    campaign: Campaign | str | Path, allow_unpriced: bool, environ: Mapping[str, str] | None
) -> tuple[Campaign, dict[str, Task]]:
    """``_campaign``, and the tasks its checks read (so that the run does not read them again)."""
    if not isinstance(campaign, Campaign):
        loaded, _ = say_load_warnings(
            lambda: load_campaign_and_tasks(
                campaign, env=environ, allow_unpriced=True if allow_unpriced else None
            )
        )
        return loaded
    if allow_unpriced:
        budget = campaign.budget.model_copy(update={"allow_unpriced": True})
        campaign = campaign.model_copy(update={"budget": budget})
    from orchestrator.validation import Location, check_campaign
    from orchestrator.validation.reach import resolve_budget

    where = Location("<campaign>", None)

    def check() -> tuple[Campaign, dict[str, Task]]:
        tasks = check_campaign(campaign, where, os.environ if environ is None else environ)
        return resolve_budget(campaign, tasks, where), tasks

    # A campaign from load_campaign said its warnings then: checked again here, it says only new ones.
    (checked, tasks), said = say_load_warnings(check, said=campaign._said_warnings)
    checked._said_warnings = said
    return checked, tasks


def optimize(
    campaign: Campaign | str | Path,
    *,
    on_event: EventCallback | None = None,
    environ: Mapping[str, str] | None = None,
    allow_unpriced: bool = False,
) -> RunResult:
    """Run a campaign: stage 1 over the source tasks, stage 2 on the target, finalists, test.

    Args:
        campaign: a validated ``Campaign`` or the path of a campaign YAML file.
        on_event: called as ``on_event(kind, payload)`` for progress (stage, proposed, scored, ...).
        environ: where API keys are read (default ``os.environ``).
        allow_unpriced: accept ``budget.max_usd`` with a model of unknown price (its calls count as
            $0; the report says so), as ``budget.allow_unpriced: true`` does.

    Returns:
        The result; ``status`` is ``"stopped"`` when a budget, time limit or stop file ended the run,
        ``"interrupted"`` after Ctrl-C, ``"failed"`` when a backend failed for good or failed the
        baseline prompts systematically (``message`` says why); all are checkpointed: fix what is
        wrong and ``resume`` continues. ``answer`` always holds the best prompt so far and how it was
        measured.

    Raises:
        ConfigError, DataError: bad campaign or task data (nothing run).
    """
    campaign, tasks = _campaign_and_tasks(campaign, allow_unpriced, environ)
    run_id = new_run_id()
    try:
        return asyncio.run(
            optimize_async(campaign, on_event=on_event, environ=environ, run_id=run_id, tasks=tasks)
        )
    except KeyboardInterrupt:
        return _saved_result(campaign.run.store, run_id)


def resume(
    run_id: str,
    *,
    store: str | Path | None = None,
    campaign: Campaign | str | Path | None = None,
    budget: Mapping[str, Any] | None = None,
    on_event: EventCallback | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunResult:
    """Continue a stopped, failed or killed run from its last checkpoint (cached calls are free).

    Args:
        run_id: the run to continue.
        store: the run store it was recorded in (None: the campaign's ``run.store``, else
            ``$PROMPTFUSION_STORE``, else ``runs/promptfusion.sqlite``); ``RunResult.store`` holds it.
        campaign: a corrected campaign (or its file) to continue with: models, budgets and where
            results go may change; a change to what was already scored is refused.
        budget: new limits replacing the saved ones, e.g. ``{"max_calls": 5000}``.

    Raises:
        RunNotFound, RunLocked (another process is running it), ResumeRefused.
    """
    corrected = None if campaign is None else _campaign(campaign, False, environ)
    try:
        return asyncio.run(
            resume_async(
                run_id,
                store_path=store,
                campaign=corrected,
                budget=budget,
                on_event=on_event,
                environ=environ,
            )
        )
    except KeyboardInterrupt:
        given = store if store is not None else (corrected.run.store if corrected else None)
        return _saved_result(store_path(given), run_id)


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
