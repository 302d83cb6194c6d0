"""The ``promptfusion`` command: a thin shell over the library.

Each command lives in its own module exposing ``register(app)``; heavy libraries (torch,
transformers, litellm, langgraph) are imported inside the command functions, so ``--help``
answers at once. Errors become one readable line and a non-zero exit; ``--debug`` shows the
traceback.
"""

from __future__ import annotations

import sys


def _interrupted_while_importing() -> None:
    """A Ctrl-C while the CLI is still importing: one line and 130, like any other Ctrl-C. Exits at
    once: ``SystemExit`` from a module that ``python -m`` is still importing left the process killed
    by SIGINT (exit -2) when the interrupt landed inside a nested import."""
    import os

    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    os._exit(130)


try:
    import importlib

    import typer
except KeyboardInterrupt:
    _interrupted_while_importing()

COMMAND_MODULES = (
    "check_cmd",
    "models_cmd",
    "tasks_cmd",
    "eval_cmd",
    "run_cmd",
    "runs_cmd",
    "report_cmd",
    "serve_cmd",
    "soft_cmd",
    "export_cmd",
)

app = typer.Typer(
    name="promptfusion",
    help="Agentic prompt optimization: discrete search, multi-objective evaluation, soft prompts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """promptfusion: optimize prompts for your tasks on any LLM backend."""


try:
    for _name in COMMAND_MODULES:
        importlib.import_module(f"orchestrator.cli.{_name}").register(app)
except KeyboardInterrupt:
    _interrupted_while_importing()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="promptfusion", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted; the run is checkpointed and can be resumed", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # the CLI alone turns errors into messages
        if debug:
            raise
        from orchestrator.cli.render import error_line

        typer.echo(error_line(exc), err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
