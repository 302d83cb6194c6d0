"""``promptfusion tasks``: list the built-in tasks with their family, size and labels."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("tasks")
    def tasks(
        names: bool = typer.Option(False, "--names", help="Print only the task names, one a line."),
    ) -> None:
        """List the built-in tasks (BIG-bench, Apache-2.0), grouped by family."""
        from orchestrator.tasks import builtin_task_infos

        infos = builtin_task_infos()
        if names:
            typer.echo("\n".join(info.name for info in infos))
            return
        from rich.table import Table

        from orchestrator.cli.render import console

        table = Table(title="Built-in tasks (BIG-bench 1.0.0, Apache-2.0)")
        for column in ("task", "family", "examples", "inputs", "labels"):
            table.add_column(column, justify="right" if column == "examples" else "left")
        for info in infos:
            table.add_row(info.name, info.family, str(info.n_examples), ", ".join(info.input_fields),
                          " | ".join(info.labels))  # fmt: skip
        console().print(table)
