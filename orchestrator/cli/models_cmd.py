"""``promptfusion models CAMPAIGN.yaml [--ping]``: the configured backends, optionally called once each."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        campaign: Path = typer.Argument(..., help="Campaign YAML file."),
        ping: bool = typer.Option(
            False,
            "--ping",
            help="Send one tiny uncached call per backend: latency, answer, and whether log-probabilities "
            "come back (needed for label scores).",
        ),
    ) -> None:
        """List the model of each role; with --ping, check that each one answers."""
        import asyncio

        from rich.table import Table

        from orchestrator.cli.loading import load_for_command
        from orchestrator.cli.render import console

        # Listing or pinging models spends nothing a budget guards, so an unpriced model is fine here.
        config = load_for_command(campaign, allow_unpriced=True)
        roles = {r: getattr(config.models, r) for r in ("reference", "scorer", "judge")}
        roles = {r: m for r, m in roles.items() if m is not None}
        results = asyncio.run(_ping_all(roles)) if ping else {}
        table = Table(title=str(campaign))
        for column in (
            "role",
            "model",
            "api_base",
            "key from",
            *(("latency", "answer", "log-probs") if ping else ()),
        ):
            table.add_column(column)
        for role, model in roles.items():
            row = [role, model.model, model.api_base or "-", model.api_key_env or "-"]
            if ping:
                row += list(results[role])
            table.add_row(*row)
        console().print(table)
        if ping and any(row[0] == "failed" for row in results.values()):
            raise typer.Exit(1)


async def _ping_all(roles) -> dict[str, tuple[str, str, str]]:
    import dataclasses
    import time

    from orchestrator.backends.base import ChatRequest, LLMError
    from orchestrator.backends.registry import create_backend
    from orchestrator.gateway.factory import backend_settings
    from orchestrator.resources import backend_key

    backends: dict[str, object] = {}
    out: dict[str, tuple[str, str, str]] = {}
    plain = ChatRequest(messages=(("user", "Reply with the word OK."),), max_tokens=4)
    asking = dataclasses.replace(plain, logprobs=True, top_logprobs=5)
    try:
        for role, model in roles.items():
            key = backend_key(model)
            if key not in backends:
                backends[key] = create_backend(model.model, backend_settings(model))
            backend = backends[key]
            can = getattr(backend, "supports_logprobs", False)
            started = time.perf_counter()
            try:
                reply = await backend.complete(asking if can else plain)
            except LLMError as exc:
                out[role] = ("failed", f"{type(exc).__name__}: {str(exc)[:80]}", "-")
                continue
            logprobs = "yes" if reply.logprobs else ("no (none returned)" if can else "no (not offered)")
            latency = f"{time.perf_counter() - started:.2f} s"
            out[role] = (latency, repr(reply.text.strip()[:40]), logprobs)
    finally:
        for backend in backends.values():
            await backend.aclose()
    return out
