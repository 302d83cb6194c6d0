"""``promptfusion serve MODEL``: an OpenAI-compatible endpoint for a local model (for other tools)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model: str = typer.Argument("local/smollm2-135m-instruct", help="Model string to serve."),
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8000, "--port", help="Port (0: any free port)."),
        device: str = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (local models)."),
        threads: int = typer.Option(None, "--threads", help="torch CPU threads (local models)."),
    ) -> None:
        """Serve MODEL at /v1/chat/completions (with logprobs) until interrupted."""
        import asyncio
        import contextlib

        from orchestrator.serve import serve as run

        options = {k: v for k, v in (("device", device), ("threads", threads)) if v is not None}
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(model, host=host, port=port, options=options, on_ready=typer.echo))
