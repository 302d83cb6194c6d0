"""The ``promptfusion`` command: a thin shell over the library.

Each command lives in its own module exposing ``register(app)``; heavy libraries (torch,
transformers, litellm, langgraph) are imported inside the command functions, so ``--help``
answers at once. Errors become one readable line and a non-zero exit; ``--debug`` shows the
traceback.
"""

from __future__ import annotations

import sys

try:
    import importlib

    import typer

    from orchestrator.cli.interrupt import INTERRUPTED, Interrupted, exit_interrupted
except KeyboardInterrupt:  # while the CLI is still importing: nothing started
    from orchestrator.cli.interrupt import exit_interrupted

    exit_interrupted("interrupted")

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
except KeyboardInterrupt:  # while the CLI is still importing: nothing started
    exit_interrupted("interrupted")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="promptfusion", standalone_mode=True)
    except Interrupted as interrupted:  # a command handled its Ctrl-C (run: its line names the resume)
        exit_interrupted(str(interrupted))
    except SystemExit as exit_:
        if exit_.code == INTERRUPTED:  # typer's silent exit for a Ctrl-C outside any command's handling
            exit_interrupted("interrupted")
        raise
    except KeyboardInterrupt:
        exit_interrupted("interrupted")
    except Exception as exc:  # the CLI alone turns errors into messages
        if debug:
            raise
        from orchestrator.cli.render import error_line

        typer.echo(error_line(exc), err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
