"""``promptfusion report RUN_ID``: one self-contained HTML page (or JSON, or Markdown) for a run."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        run_id: str = typer.Argument(..., help="The run to report on."),
        store: Path = typer.Option(
            None, "--store", help="Run store (default: $PROMPTFUSION_STORE, else runs/promptfusion.sqlite)."
        ),
        fmt: str = typer.Option("html", "--format", help="html (one offline page), json or md."),
        out: str = typer.Option(
            None,
            "--out",
            help="File to write ('-' for stdout); default: reports/RUN_ID.EXT beside the store.",
        ),
        pareto: str = typer.Option(
            None, "--pareto", help="The Pareto scatter's two dimensions, e.g. 'accuracy,ece' (the default)."
        ),
    ) -> None:
        """Write a report of RUN_ID: trajectories, Pareto front, spend, soft prompts, final comparison."""
        import os

        from orchestrator.report import FORMATS, build_report, write_report
        from orchestrator.store import RunStore

        if fmt not in FORMATS:
            raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
        dims = [d.strip() for d in pareto.split(",")] if pareto else None
        if out == "-":
            store = _require(store)
            typer.echo(
                build_report(RunStore(store), run_id, fmt=fmt, pareto_dims=dims, environ=os.environ), nl=False
            )
            return
        path = write_report(_require(store), run_id, fmt=fmt, out=out, pareto_dims=dims, environ=os.environ)
        typer.echo(f"report: {path}")


def _require(store: Path | None) -> Path:
    from orchestrator.store_location import existing_store

    return existing_store(store)
