"""``promptfusion check CAMPAIGN.yaml``: validate a campaign and print the resolved config."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        campaign: Path = typer.Argument(..., help="Campaign YAML file."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Only report errors."),
        allow_unpriced: bool = typer.Option(
            False, "--allow-unpriced", help="Accept budget.max_usd with a model of unknown price."
        ),
    ) -> None:
        """Validate CAMPAIGN and print the resolved configuration (defaults filled in, no secrets)."""
        import yaml

        from orchestrator.cli.loading import load_for_command
        from orchestrator.cli.render import console

        config = load_for_command(campaign, allow_unpriced=allow_unpriced)
        if not quiet:
            from rich.syntax import Syntax

            text = yaml.safe_dump(config.resolved(), sort_keys=False)
            console().print(Syntax(text, "yaml", theme="ansi_dark", background_color="default"))
        console().print(f"[green]ok[/green] {campaign}")
