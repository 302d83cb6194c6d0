"""``promptfusion export RUN_ID --format dspy|json|txt``: the winner out of this tool."""

from __future__ import annotations

from pathlib import Path

import typer

from orchestrator.cli.runs_cmd import STORE_HELP

FORMAT_HELP = "dspy (a dspy.Predict state file), json (prompt, scores with intervals, provenance) or txt."


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        run_id: str = typer.Argument(..., help="The run whose winner to export."),
        fmt: str = typer.Option("json", "--format", help=FORMAT_HELP),
        out: Path = typer.Option(
            None, "--out", help="File to write (default: exports/RUN_ID.* beside the store)."
        ),
        store: Path = typer.Option(None, "--store", help=STORE_HELP),
    ) -> None:
        """Export a run's winning prompt (soft prompts: `soft train --peft DIR` writes a PEFT adapter)."""
        import json

        from orchestrator.cli.render import console
        from orchestrator.export import export_winner

        path = export_winner(run_id, fmt, out=out, store=store)
        out_console = console()
        out_console.print(f"{fmt}: {path}", markup=False, highlight=False)
        if fmt == "dspy":
            signature = json.loads(path.read_text())["metadata"]["promptfusion"]["signature"]
            out_console.print(
                f'load with: dspy.Predict("{signature}").load("{path}")', markup=False, highlight=False
            )
