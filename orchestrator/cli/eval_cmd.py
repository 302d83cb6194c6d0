"""``promptfusion eval``: score one prompt on one task and print the metrics."""

from __future__ import annotations

import typer

DEFAULT_MODEL = "local/smollm2-135m-instruct"


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_(
        task: str = typer.Option(..., "--task", "-t", help="A built-in task name, or a .jsonl/.csv file."),
        prompt: str | None = typer.Option(
            None, "--prompt", "-p", help="The instruction (system message); default: the task's own."
        ),
        model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="<provider>/<model>."),
        split: str = typer.Option("dev", "--split", help="train, dev or test."),
        limit: int | None = typer.Option(None, "--limit", help="Score only the first N examples."),
        seed: int = typer.Option(0, "--seed", help="Seed of the train/dev/test split."),
        scoring: str = typer.Option("auto", "--scoring", help="auto, label_scores or generate."),
        calibration: str = typer.Option(
            "none", "--calibration", help="Label scores: none, batch or content_free."
        ),
        instruction_turn: str = typer.Option(
            "system", "--instruction-turn", help="Where the prompt sits: system, or user (before the input)."
        ),
        concurrency: int = typer.Option(64, "--concurrency", help="Requests in flight."),
        api_key_env: str | None = typer.Option(None, "--api-key-env", help="Env variable with the API key."),
        api_base: str | None = typer.Option(None, "--api-base", help="Server URL of a hosted model."),
    ) -> None:
        """Score a prompt on a split of a task; print accuracy, macro-F1 and calibration."""
        import asyncio

        from evaluators import INSTRUCTION_TURNS
        from orchestrator.tasks import resolve_task
        from orchestrator.tasks.evaluation import evaluate_on_task

        if instruction_turn not in INSTRUCTION_TURNS:
            turns = " or ".join(INSTRUCTION_TURNS)
            raise typer.BadParameter(f"{turns}, not {instruction_turn!r}", param_hint="--instruction-turn")
        loaded = resolve_task(task)
        instruction = prompt if prompt is not None else loaded.instruction
        if not instruction:
            raise typer.BadParameter(
                "the task has no instruction of its own; pass one", param_hint="--prompt"
            )
        result = asyncio.run(
            evaluate_on_task(loaded, instruction, model=model, split=split, seed=seed, limit=limit,
                             scoring=scoring, calibration=calibration, instruction_turn=instruction_turn,
                             concurrency=concurrency,
                             api_key_env=api_key_env, api_base=api_base)
        )  # fmt: skip
        _print_report(result)


def _print_report(result) -> None:
    """A heading line, a rich table of the metrics, and a line with failures and timings."""
    import math

    from rich.table import Table

    from orchestrator.cli.render import console

    report = result.report
    out = console()
    out.print(f"[bold]{report.task.name}[/bold] / {result.split}: {len(report.examples)} examples")
    table = Table()
    for column in ("metric", "value", "better"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for name in report.metrics:
        value = report.scores[name]
        better = "higher" if report.dimensions[name].direction == "max" else "lower"
        table.add_row(name, "n/a" if math.isnan(value) else f"{value:.4f}", better)
    out.print(table)
    if report.task.labels is not None:
        from evaluators import dominant_answer, trivial_baselines

        majority = trivial_baselines(report.targets, report.task.labels, n_draws=200)[0]
        out.print(
            f"majority class {majority.description}: accuracy {majority.scores['accuracy']:.4f}, "
            f"balanced accuracy {majority.scores['balanced_accuracy']:.4f}"
        )
        flag = dominant_answer([r.prediction for r in report.examples])
        if flag is not None:
            out.print(f"[yellow]constant predictor: {flag.text}[/yellow]")
    out.print(
        f"scoring={report.scoring}, calibration={report.label_calibration}, "
        f"failures={sum(report.failures.values())}, "
        f"model load {result.load_s:.1f} s, scoring {result.scoring_s:.1f} s"
    )
