"""Running a campaign: build the run's parts, execute the search graph under a SQLite checkpointer,
and turn the final state into a result. ``optimize`` starts a run, ``resume`` continues one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.backends.base import BudgetExceeded, LLMError
from orchestrator.config import Campaign
from orchestrator.errors import StoreError, SystematicFailure
from orchestrator.lease import RunLease
from orchestrator.resume_changes import check_resume_changes, check_task_data, task_fingerprints
from orchestrator.run_result import RunResult, result_from_state, result_from_store, summary_line
from orchestrator.scoring.capability import decide_scoring
from orchestrator.stoppers import run_until_stopped
from orchestrator.store import RunStore
from orchestrator.store_location import existing_store
from orchestrator.tasks.task import Task

__all__ = [
    "EventCallback",
    "RunResult",
    "checkpoint_path",
    "optimize_async",
    "result_from_store",
    "resume_async",
]

EventCallback = Callable[[str, Mapping[str, Any]], None]


def checkpoint_path(store_path: str | Path) -> Path:
    """The LangGraph checkpoint database kept beside the run store."""
    path = Path(store_path)
    return path.with_name(path.stem + ".checkpoints.sqlite")


@functools.cache
def compiled_search_graph() -> Any:
    """The search graph, compiled once per process without a checkpointer (building and compiling
    cost ~15 ms, mostly LangGraph reading the nodes' type hints); each run takes a copy with its own
    checkpointer (``Pregel.copy``, ~0.1 ms)."""
    from orchestrator.graph import build_graph

    return build_graph().compile()


@contextlib.asynccontextmanager
async def open_checkpointer(path: str | Path) -> AsyncIterator[Any]:
    """LangGraph's ``AsyncSqliteSaver`` on ``path``, in WAL mode with ``synchronous=NORMAL``.

    With WAL, NORMAL skips the fsync per commit (langgraph's default connection pays one per
    checkpoint: ~2 ms per graph step here) and still survives the process being killed at any point:
    only an OS crash or power loss can drop the last commits. Runs use ``durability="sync"``, so
    every step's checkpoint is committed before the next step starts.
    """
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with aiosqlite.connect(str(path)) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        yield AsyncSqliteSaver(conn)


async def optimize_async(
    campaign: Campaign,
    *,
    on_event: EventCallback | None = None,
    environ: Mapping[str, str] | None = None,
    run_id: str | None = None,
    tasks: Mapping[str, Task] | None = None,
) -> RunResult:
    """Run a campaign from the start. See ``orchestrator.optimize``.

    Args:
        tasks: the campaign's tasks as its load-time validation read them (None: read them here).
    """
    store = RunStore(campaign.run.store)
    try:
        run_id = store.create_run(campaign.name, campaign.resolved(), campaign.run.seed, run_id=run_id)
        with RunLease.acquire(store.path, run_id):
            return await _execute(
                campaign, store, run_id, fresh=True, on_event=on_event, environ=environ, tasks=tasks
            )
    except (asyncio.CancelledError, KeyboardInterrupt):
        if run_id is not None:
            _interrupted_before_saving(store, run_id)
        raise
    finally:
        store.close()


async def resume_async(
    run_id: str,
    *,
    store_path: str | Path | None = None,
    campaign: Campaign | None = None,
    budget: Mapping[str, Any] | None = None,
    on_event: EventCallback | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunResult:
    """Continue a stopped, failed or killed run from its last checkpoint. See ``orchestrator.resume``.

    Args:
        run_id: the run to continue.
        store_path: its run store (None: ``campaign.run.store``, else ``$PROMPTFUSION_STORE``, else
            ``runs/promptfusion.sqlite``).
        campaign: a corrected campaign replacing the saved config (see ``orchestrator.resume_changes``
            for what may change once something was scored).
        budget: new limits (``max_calls``, ``max_tokens``, ``max_usd``) replacing the saved ones.

    Raises:
        RunNotFound: no such run in the store.
        RunLocked: another live process is running it.
        ResumeRefused: ``campaign`` changes a setting the recorded scores depend on.
    """
    given = store_path if store_path is not None else (campaign.run.store if campaign else None)
    store = RunStore(existing_store(given))
    try:
        store.run(run_id)
        with RunLease.acquire(store.path, run_id):
            config = store.config(run_id)
            saved_calls = config.get("budget", {}).get("max_calls")
            fresh = False
            if campaign is not None:
                scored = bool(store.candidates(run_id))
                saved = Campaign.model_validate(config).resolved()
                changes = check_resume_changes(run_id, saved, campaign.resolved(), scored=scored)
                if changes:
                    config = campaign.resolved()
                    store.set_config(run_id, config)
                    store.record_event(run_id, "config_changed", {"settings": changes})
                    fresh = not scored  # nothing scored yet: start over on the corrected settings
            if budget:
                config = {**config, "budget": {**config.get("budget", {}), **budget}}
            resumed = Campaign.model_validate(config)
            new_calls = resumed.budget.max_calls
            more_calls = saved_calls is not None and (new_calls is None or new_calls > saved_calls)
            if store.run(run_id).status == "done":
                return result_from_store(store, run_id)
            tasks = _resume_tasks(resumed, store, run_id, check=not fresh)
            return await _execute(
                resumed,
                store,
                run_id,
                fresh=fresh,
                on_event=on_event,
                environ=environ,
                tasks=tasks,
                search_on=more_calls,
            )
    finally:
        store.close()


def _fail_if_writable(store: RunStore, run_id: str, error: StoreError) -> None:
    """Mark the run failed with the storage error, where the store can still be written."""
    with contextlib.suppress(StoreError):
        store.set_status(run_id, "failed", str(error))


def _interrupted_before_saving(store: RunStore, run_id: str) -> None:
    """A Ctrl-C that came before the run could save itself (while its parts were opening) leaves it
    ``interrupted``, not ``running`` with no message."""
    from orchestrator.errors import RunNotFound

    with contextlib.suppress(RunNotFound):
        if store.run(run_id).status == "running":
            store.set_status(run_id, "interrupted", "interrupted; resume to continue")


def _resume_tasks(campaign: Campaign, store: RunStore, run_id: str, *, check: bool) -> dict[str, Task]:
    """The tasks a resume continues on, refused when their data changed since the run started.

    Raises:
        ResumeRefused: a task's data differs from the fingerprint the run recorded.
        DataError: a task file cannot be read (the run is left as it was).
    """
    from orchestrator.tasks.resolve import load_campaign_tasks

    tasks = load_campaign_tasks(campaign)
    recorded = store.events(run_id, "task_data")
    if check and recorded:
        check_task_data(run_id, recorded[-1].get("tasks", {}), tasks)
    return tasks


async def _execute(
    campaign: Campaign,
    store: RunStore,
    run_id: str,
    *,
    fresh: bool,
    on_event: EventCallback | None,
    environ: Mapping[str, str] | None,
    tasks: Mapping[str, Task] | None = None,
    search_on: bool = False,
) -> RunResult:
    """``_run``, mirrored to MLflow when the campaign is tracked (``orchestrator.tracking``)."""
    from orchestrator.tracking import open_tracking

    tracker = open_tracking(campaign, store, run_id, environ)
    result = None
    try:
        on_event = tracker.wrap(on_event)
        result = await _run(
            campaign,
            store,
            run_id,
            fresh=fresh,
            on_event=on_event,
            environ=environ,
            tasks=tasks,
            search_on=search_on,
        )
        return result
    finally:
        tracker.close(result)


async def _run(
    campaign: Campaign,
    store: RunStore,
    run_id: str,
    *,
    fresh: bool,
    on_event: EventCallback | None,
    environ: Mapping[str, str] | None,
    tasks: Mapping[str, Task] | None = None,
    search_on: bool = False,
) -> RunResult:
    """Run the graph from the start (``fresh``) or its last checkpoint; ``search_on``: a resume with a
    larger call budget first re-opens a stage whose exploration the old budget ended."""
    from orchestrator.resources import RunResources
    from orchestrator.search.rewind import rewind_config
    from orchestrator.tasks.resolve import load_campaign_tasks

    emit = on_event or (lambda kind, payload: None)
    emit("run", {"run_id": run_id, "resumed": not fresh})
    try:
        tasks = dict(tasks) if tasks is not None else load_campaign_tasks(campaign)
        resources = RunResources.open(campaign, store=store, run_id=run_id, environ=environ)
    except Exception as exc:
        # A run that could not start is failed, not "running" forever; the caller shows the error.
        store.set_status(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    if fresh:
        store.record_event(run_id, "task_data", {"tasks": task_fingerprints(tasks)})
        _record_notes(campaign, tasks, store, run_id, on_event)
    store.set_status(run_id, "running", None)
    thread = {"configurable": {"thread_id": run_id}, "recursion_limit": 10_000}
    async with (
        resources as res,
        open_checkpointer(checkpoint_path(campaign.run.store)) as saver,
    ):
        graph = compiled_search_graph().copy(update={"checkpointer": saver})
        reason = None
        try:
            # Before anything else is spent: one probe at most, cached, so a resume pays nothing.
            has_labels = any(task.labels is not None for task in tasks.values())
            decision = await decide_scoring(campaign.scoring, res["scorer"], has_labels=has_labels)
            store.record_event(run_id, "scoring", decision.to_event())
            emit("scoring", decision.to_event())
            if decision.warning and fresh:
                store.record_event(run_id, "scoring_note", {"note": decision.warning})
                emit("scoring_note", {"note": decision.warning})
            context = _search_context(campaign, run_id, tasks, res, store, decision.mode, emit)
            start = {} if fresh or not (await graph.aget_state(thread)).values else None
            rewound = await rewind_config(graph, thread) if search_on and start is None else None
            job = graph.ainvoke(start, rewound or thread, context=context, durability="sync")
            state, reason = await run_until_stopped(job, _stoppers(campaign))
        except BudgetExceeded as exc:
            store.record_event(run_id, "budget", {"budget": exc.budget})
            reason = f"{exc.budget} budget reached ({exc}); resume with a larger budget"
        except StoreError as exc:
            _fail_if_writable(store, run_id, exc)
            raise
        except sqlite3.Error as exc:  # the checkpointer's file: everything else wraps its own errors
            error = StoreError.wrap("checkpoints", checkpoint_path(campaign.run.store), exc)
            _fail_if_writable(store, run_id, error)
            raise error from exc
        except (SystematicFailure, LLMError) as exc:
            # An outage or a capability gap is a failed run, never a bad prompt (STYLE rule 8).
            message = str(exc) if isinstance(exc, SystematicFailure) else f"{type(exc).__name__}: {exc}"
            store.record_event(run_id, "failed", {"error": type(exc).__name__, "message": message})
            state = (await graph.aget_state(thread)).values
            return _save(store, result_from_state(run_id, "failed", message, state, store))
        except (asyncio.CancelledError, KeyboardInterrupt):
            state = (await graph.aget_state(thread)).values
            _save(
                store,
                result_from_state(run_id, "interrupted", "interrupted; resume to continue", state, store),
            )
            raise
        except Exception as exc:
            store.set_status(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        if reason is not None:
            state = (await graph.aget_state(thread)).values
            return _save(store, result_from_state(run_id, "stopped", f"stopped: {reason}", state, store))
    result = result_from_state(run_id, "done", "finished", state, store)
    result.message = summary_line(result)
    return _save(store, result)


def _stoppers(campaign: Campaign):
    from orchestrator.stoppers import Stoppers

    stop_file = campaign.budget.stop_file
    return Stoppers(max_seconds=campaign.budget.max_seconds, stop_file=Path(stop_file) if stop_file else None)


def _save(store: RunStore, result: RunResult) -> RunResult:
    """Keep the result (a stopped run's best so far too) where ``show`` and the report read it."""
    if result.status != "done" and result.answer is not None:
        result.message += f"; best so far: {result.answer['measured']}"
    store.set_result(result.run_id, result.to_dict())
    store.set_status(result.run_id, result.status, result.message)
    return result


def _search_context(
    campaign: Campaign,
    run_id: str,
    tasks: Mapping[str, Any],
    res: Any,
    store: RunStore,
    scoring_mode: str,
    emit: EventCallback,
) -> Any:
    from orchestrator.search.context import SearchContext
    from orchestrator.search.selection import acceptance_policy
    from orchestrator.search.task_scorer import TaskPromptScorer

    policy = acceptance_policy(campaign.objective)
    weights = dict(campaign.objective.weights)
    return SearchContext(
        campaign=campaign,
        run_id=run_id,
        reference=res["reference"],
        scorer=TaskPromptScorer(tasks, campaign, res["scorer"], res.get("judge"), scoring_mode=scoring_mode),
        store=store,
        source_tasks=[t.name for t in campaign.tasks.source],
        target_task=campaign.tasks.target.name,
        dimensions=policy.dimensions,
        objective=lambda normalized: _objective(normalized, weights),
        soft=_soft_stage(campaign, tasks, getattr(res["scorer"], "backend", None)),
        budget=res.budget,
        on_event=emit,
    )


def _record_notes(
    campaign: Campaign, tasks: Mapping[str, Any], store: RunStore, run_id: str, on_event: EventCallback | None
) -> None:
    """Events the report shows: duplicate inputs dropped, a spend limit blind to unpriced models.

    Written once, when the run starts (a resume does not repeat them)."""
    from orchestrator.validation import duplicates_note, unpriced_models

    notes = [("data", duplicates_note(task), task.name) for task in tasks.values()]
    if campaign.budget.max_usd is not None and campaign.budget.allow_unpriced:
        unpriced = [model for _, model in unpriced_models(campaign)]
        if unpriced:
            note = (
                f"budget.allow_unpriced: max_usd does not count {', '.join(sorted(set(unpriced)))} "
                "(no known price: their calls counted as $0)"
            )
            notes.append(("unpriced", note, None))
    for kind, note, task in notes:
        if note:
            payload = {"note": note, **({"task": task} if task else {})}
            store.record_event(run_id, kind, payload)
            if on_event:
                on_event(kind, payload)


def _soft_stage(campaign: Campaign, tasks, scorer_backend: Any = None):
    from orchestrator.soft.twin import soft_stage_for

    return soft_stage_for(campaign, tasks, scorer_backend)


def _objective(normalized: Mapping[str, float], weights: Mapping[str, float]) -> float:
    from evaluators.objective import weighted_objective

    usable = {k: w for k, w in weights.items() if k in normalized}
    if not usable:
        return math.nan
    return weighted_objective(normalized, usable)
