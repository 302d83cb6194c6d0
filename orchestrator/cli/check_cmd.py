"""``promptfusion check CAMPAIGN.yaml``: validate a campaign and print the resolved config."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        campaign: Path = typer.Argument(..., help="Campaign YAML file."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Only report errors."),
    ) -> None:
        """Validate CAMPAIGN and print the resolved configuration (defaults filled in, no secrets)."""
        import yaml

        from orchestrator.cli.render import console
        from orchestrator.config import load_campaign

        config = load_campaign(campaign)
        if not quiet:
            from rich.syntax import Syntax

            text = yaml.safe_dump(config.resolved(), sort_keys=False)
            console().print(Syntax(text, "yaml", theme="ansi_dark", background_color="default"))
        console().print(f"[green]ok[/green] {campaign}")
