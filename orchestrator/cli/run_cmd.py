"""``promptfusion run CAMPAIGN.yaml``: run (or resume, or estimate) an optimization campaign."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        campaign: Path = typer.Argument(..., help="Campaign YAML file."),
        resume: str = typer.Option(None, "--resume", help="Continue this run id from its last checkpoint."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Only print the estimated calls, tokens and cost."
        ),
        max_calls: int = typer.Option(None, "--max-calls", help="Override budget.max_calls."),
        max_usd: float = typer.Option(None, "--max-usd", help="Override budget.max_usd."),
        report: bool = typer.Option(True, "--report/--no-report", help="Write the HTML report at the end."),
        allow_unpriced: bool = typer.Option(
            False, "--allow-unpriced", help="Accept --max-usd/budget.max_usd with a model of unknown price."
        ),
        mlflow: str = typer.Option(
            None, "--mlflow", help="Track the run in MLflow at this URI (overrides tracking.mlflow_uri)."
        ),
    ) -> None:
        """Run CAMPAIGN: stage 1 over the source tasks, stage 2 on the target, then finalists and test."""
        started: dict[str, str] = {}  # the run id and store, once the run may exist
        try:
            _run(campaign, resume, dry_run, max_calls, max_usd, report, allow_unpriced, started, mlflow)
        except KeyboardInterrupt:  # at any moment: one line, exit 130, the run left resumable
            _interrupted(campaign, _mark_interrupted(started))


def _run(campaign, resume, dry_run, max_calls, max_usd, report, allow_unpriced, started, mlflow) -> None:
    import asyncio
    import gc

    from orchestrator.cli.loading import load_with_tasks_for_command
    from orchestrator.cli.render import console, print_estimate, print_result
    from orchestrator.runner import optimize_async, resume_async
    from orchestrator.store import new_run_id
    from orchestrator.tracking import with_tracking_uri
    from orchestrator.validation import check_budget_override
    from orchestrator.validation.reach import budget_shortfall

    _check_limits(max_calls, max_usd)
    config, tasks = load_with_tasks_for_command(
        campaign, allow_unpriced=allow_unpriced, max_calls_overridden=max_calls is not None
    )
    config = with_tracking_uri(config, mlflow)
    overrides = {k: v for k, v in (("max_calls", max_calls), ("max_usd", max_usd)) if v is not None}
    if overrides:
        config = config.model_copy(update={"budget": config.budget.model_copy(update=overrides)})
        check_budget_override(config, "--max-usd")
    if max_calls is not None and (shortfall := budget_shortfall(config, tasks)):
        typer.echo(f"warning: --max-calls: {shortfall}", err=True)
    if dry_run:
        print_estimate(config, tasks)
        return
    from orchestrator.cli.live import LiveDisplay

    out = console()
    # The CLI owns its process: the objects of everything imported so far leave the cyclic
    # collector, so a full collection over them (~100 ms with litellm loaded) never stalls the
    # event loop while calls are in flight.
    gc.collect()
    gc.freeze()
    run_id = resume or new_run_id()
    started.update(run_id=run_id, store=str(config.run.store))
    with LiveDisplay(config, config.run.store, out) as live:
        if resume:
            job = resume_async(resume, store_path=config.run.store, campaign=config, on_event=live.on_event)
        else:
            job = optimize_async(config, on_event=live.on_event, run_id=run_id, tasks=tasks)
        try:
            result = asyncio.run(job)
        except KeyboardInterrupt:  # the run saved its best prompt so far before unwinding
            result = None
        if result is not None:
            live.finish(result.status)
    if result is None:
        result = _saved_result(started)
        if result is None:
            raise KeyboardInterrupt
        print_result(result, out, campaign=campaign)
        raise KeyboardInterrupt
    print_result(result, out, campaign=campaign)
    _print_mlflow_run(config.run.store, result.run_id, out)
    if report:
        from orchestrator.report import write_report

        out.print(f"report: {write_report(config.run.store, result.run_id)}")
    if result.status in EXIT_CODES:
        raise typer.Exit(EXIT_CODES[result.status])


def _print_mlflow_run(store_path: str, run_id: str, out) -> None:
    from orchestrator.store import RunStore
    from orchestrator.tracking import link_line

    store = RunStore(store_path)
    try:
        if line := link_line(store, run_id):
            out.print(line, markup=False, highlight=False)
    finally:
        store.close()


def _saved_result(started: dict[str, str]):
    """The interrupted run's saved result (its best prompt so far), or None if it never started."""
    from orchestrator.errors import RunNotFound
    from orchestrator.runner import result_from_store
    from orchestrator.store import RunStore

    if _mark_interrupted(started) is None:
        return None
    store = RunStore(started["store"])
    try:
        return result_from_store(store, started["run_id"])
    except RunNotFound:
        return None
    finally:
        store.close()


def _mark_interrupted(started: dict[str, str]) -> str | None:
    """The run id when the run exists; a run a Ctrl-C caught still ``running`` (before it could save
    itself) is marked ``interrupted``, so ``runs`` and a resume see what happened."""
    import sqlite3

    from orchestrator.errors import RunNotFound
    from orchestrator.store import RunStore

    if not started or not Path(started["store"]).exists():
        return None
    try:
        store = RunStore(started["store"])
    except sqlite3.Error:
        return None
    try:
        if store.run(started["run_id"]).status == "running":
            store.set_status(started["run_id"], "interrupted", "interrupted; resume to continue")
        return started["run_id"]
    except RunNotFound:
        return None
    finally:
        store.close()


# "done" exits 0; the CLI's own errors exit 1 too, with "error: ..." on stderr instead.
EXIT_CODES = {"stopped": 3, "failed": 1}


def _interrupted(campaign: Path, run_id: str | None) -> None:
    """The one line ``main`` prints before it exits 130 (the shell's code for Ctrl-C)."""
    from orchestrator.cli.interrupt import Interrupted

    if run_id is None:
        raise Interrupted("interrupted before the run was created; nothing to resume")
    raise Interrupted(f"interrupted; resume with: promptfusion run {campaign} --resume {run_id}")


def _check_limits(max_calls: int | None, max_usd: float | None) -> None:
    """The flags refuse what ``budget.max_calls`` / ``budget.max_usd`` refuse in the file, up front."""
    if max_calls is not None and max_calls < 1:
        raise typer.BadParameter(f"must be at least 1, got {max_calls}", param_hint="--max-calls")
    if max_usd is not None and not max_usd > 0:
        raise typer.BadParameter(f"must be more than 0 (US dollars), got {max_usd:g}", param_hint="--max-usd")
