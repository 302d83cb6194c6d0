"""``promptfusion runs`` and ``promptfusion show RUN_ID``: what the run store holds."""

from __future__ import annotations

from pathlib import Path

import typer

STORE_HELP = "Run store (SQLite) to read (default: $PROMPTFUSION_STORE, else runs/promptfusion.sqlite)."


def register(app: typer.Typer) -> None:
    @app.command("runs")
    def runs(
        store: Path = typer.Option(None, "--store", help=STORE_HELP),
        limit: int = typer.Option(20, "--limit", help="Show at most this many runs."),
    ) -> None:
        """List recent runs, newest first."""
        import time

        from rich.table import Table

        from orchestrator.cli.render import console
        from orchestrator.store import RunStore

        store = _require(store)
        db = RunStore(store)
        from orchestrator.tracking import mlflow_link

        table = Table(title=str(store))
        listed = db.runs(limit)
        links = {run.run_id: mlflow_link(db, run.run_id) for run in listed}
        tracked = any(links.values())
        # Run ids are copied into resume/show/report: never cut them (other columns fold instead).
        id_width = max((len(run.run_id) for run in listed), default=6)
        table.add_column("run id", no_wrap=True, min_width=id_width)
        table.add_column("name", overflow="fold")
        table.add_column("started")
        table.add_column("status", no_wrap=True)
        table.add_column("message", overflow="fold")
        if tracked:
            table.add_column("mlflow run", overflow="fold")
        for run in listed:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created))
            row = [run.run_id, run.name, started, run.status, run.message or ""]
            if tracked:
                row.append((links[run.run_id] or {}).get("mlflow_run_id", ""))
            table.add_row(*row)
        console().print(table)

    @app.command("show")
    def show(
        run_id: str = typer.Argument(..., help="The run to show."),
        store: Path = typer.Option(None, "--store", help=STORE_HELP),
    ) -> None:
        """Show a run: its history per stage, the Pareto front, the final comparison and the cost."""
        from orchestrator.cli.render import console, print_history, print_result
        from orchestrator.runner import result_from_store
        from orchestrator.store import RunStore

        store = _require(store)
        db = RunStore(store)
        out = console()
        print_history(db.candidates(run_id), db.result(run_id), out, db.config(run_id).get("objective"))
        print_result(result_from_store(db, run_id), out)
        from orchestrator.tracking import link_line

        if line := link_line(db, run_id):
            out.print(line, markup=False, highlight=False)


def _require(store: Path | None) -> Path:
    from orchestrator.store_location import existing_store

    return existing_store(store)
