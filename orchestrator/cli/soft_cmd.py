"""``promptfusion soft train`` and ``promptfusion vectors list|combine|similarity``: thin shells.

``soft train`` parses its options into the campaign's ``SoftConfig`` (its defaults are that model's) and a
``PromptInit``, calls :func:`orchestrator.soft.standalone.train_on_task` (the soft stage's own training path)
and renders the result (:mod:`orchestrator.cli.soft_render`). The ``vectors`` commands wrap
``soft_prompts.vectors``."""

from __future__ import annotations

from pathlib import Path

import typer

from orchestrator.config import EMBEDDED_MODEL, RunConfig, ScoringConfig, SoftConfig

soft_app = typer.Typer(help="Soft prompts on a local model: train and export.", no_args_is_help=True)
vectors_app = typer.Typer(help="Task prompt vectors: list, combine, compare.", no_args_is_help=True)
# --precision offers the campaign's choices, with its default.
Precision = SoftConfig.model_fields["precision"].annotation
PRECISION = SoftConfig.model_fields["precision"].default
STORE = typer.Option(Path("runs/vectors"), "--store", help="Task-prompt-vector store (folder).")


def register(app: typer.Typer) -> None:
    app.add_typer(soft_app, name="soft")
    app.add_typer(vectors_app, name="vectors")


def _default(name: str, section: str = "soft"):
    """A campaign default (one source of truth): a field of its ``soft``, ``run`` or ``scoring`` section."""
    return (
        {"soft": SoftConfig, "run": RunConfig, "scoring": ScoringConfig}[section].model_fields[name].default
    )


@soft_app.command("train")
def train(
    task: str = typer.Option(..., "--task", help="Built-in task name or a JSONL/CSV file."),
    model: str = typer.Option(EMBEDDED_MODEL, "--model", help="Local model to tune on."),
    init: str = typer.Option("text", "--init", help="text | vocab | random | stored | vectors."),
    text: str = typer.Option(None, "--text", help="Discrete prompt for --init text."),
    init_path: str = typer.Option(None, "--init-path", help="Prompt dir or PEFT adapter for --init stored."),
    vectors: str = typer.Option(None, "--vectors", help="Comma-separated vector names for --init vectors."),
    n_tokens: int = typer.Option(_default("n_virtual_tokens"), "--n-tokens", help="Virtual tokens."),
    steps: int = typer.Option(_default("steps"), "--steps", help="Training steps."),
    batch_size: int = typer.Option(_default("batch_size"), "--batch-size", help="Examples per step."),
    lr: float = typer.Option(_default("learning_rate"), "--lr", help="Learning rate of the prompt."),
    train_examples: int = typer.Option(_default("train_examples"), "--train-examples", help="Few-shot size."),
    dev_examples: int = typer.Option(_default("dev_examples"), "--dev-examples", help="Dev examples."),
    eval_every: int = typer.Option(_default("eval_every"), "--eval-every", help="Steps between dev checks."),
    patience: int | None = typer.Option(
        _default("patience"), "--patience", help="Dev checks without gain to stop."
    ),
    processes: int = typer.Option(
        _default("processes"), "--processes", help="Data-parallel processes (one per GPU if any)."
    ),
    precision: Precision = typer.Option(
        PRECISION,
        "--precision",
        help="Training compute dtype; bf16 only where native (auto: bf16 where native, else fp32).",
    ),
    seed: int = typer.Option(_default("seed", "run"), "--seed", help="Seed of splits, init and batches."),
    out: Path = typer.Option(Path("runs/soft"), "--out", help="Folder for the tuned prompt."),
    store: Path = STORE,
    peft: Path = typer.Option(None, "--peft", help="Also export a PEFT prompt-tuning adapter here."),
    calibration: str = typer.Option(
        _default("calibration", "scoring"), "--calibration", help="Test-split label scores: batch | none."
    ),
) -> None:
    """Tune a soft prompt on TASK; store its task prompt vector; optionally export it for PEFT."""
    from orchestrator.cli.render import console
    from orchestrator.cli.soft_render import SoftProgressBar, held_out_line, summary_line
    from orchestrator.soft.standalone import train_on_task
    from soft_prompts.config import PromptInit

    values = {
        "n_virtual_tokens": n_tokens,
        "steps": steps,
        "batch_size": batch_size,
        "learning_rate": lr,
        "train_examples": train_examples,
        "dev_examples": dev_examples,
        "eval_every": eval_every,
        "patience": patience,
        "processes": processes,
        "precision": precision,
    }
    settings = _soft_settings(values)
    if calibration not in ("batch", "none"):
        raise typer.BadParameter(f"expected batch or none, got {calibration!r}", param_hint="--calibration")
    names = tuple(v.strip() for v in (vectors or "").split(",") if v.strip())
    try:
        prompt_init = PromptInit(init, text, init_path, str(store) if names else None, names, seed=seed)
    except ValueError as error:
        raise _init_error(str(error)) from None
    with SoftProgressBar(console()) as progress:
        run = train_on_task(
            task,
            model,
            prompt_init,
            settings,
            seed,
            out,
            store,
            calibration=calibration,
            peft_dir=peft,
            progress=progress,
        )
    if run.record is None:  # a non-zero rank under accelerate launch: rank 0 reports
        return
    console().print(summary_line(run))
    if run.held_out is not None:
        console().print(held_out_line(run.held_out))
    if run.peft_dir is not None:
        console().print(f"PEFT adapter: {run.peft_dir}")


# The flag of each setting, so a bad value is reported as the user typed it (not as a field of a model).
_SOFT_FLAGS = {
    "n_virtual_tokens": "--n-tokens",
    "steps": "--steps",
    "batch_size": "--batch-size",
    "learning_rate": "--lr",
    "train_examples": "--train-examples",
    "dev_examples": "--dev-examples",
    "eval_every": "--eval-every",
    "patience": "--patience",
    "processes": "--processes",
    "precision": "--precision",
}
_INIT_FLAGS = {
    "kind": "--init",
    "text": "--text",
    "path": "--init-path",
    "store_dir": "--vectors",
    "names": "--vectors",
}


def _soft_settings(values: dict) -> SoftConfig:
    from pydantic import ValidationError

    try:
        return SoftConfig(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise typer.BadParameter(
            f"{first['msg']}, got {values.get(field)!r}", param_hint=_SOFT_FLAGS.get(field, field)
        ) from None


def _init_error(message: str) -> typer.BadParameter:
    """``PromptInit.text: is required ... for kind='text'`` as ``--text: ... for --init text``."""
    import re

    match = re.match(r"PromptInit\.(\w+): (.*)", message, re.DOTALL)
    if match is None:
        return typer.BadParameter(message, param_hint="--init")
    field, reason = match.groups()
    reason = re.sub(r"kind='(\w+)'", r"--init \1", reason)
    if field == "store_dir":
        reason = reason.replace("is required", "vector names are required")
    return typer.BadParameter(reason, param_hint=_INIT_FLAGS.get(field, field))


@vectors_app.command("list")
def list_(store: Path = STORE) -> None:
    """The stored task prompt vectors."""
    from rich.table import Table

    from orchestrator.cli.render import console
    from soft_prompts.vectors import list_vectors

    table = Table(title=str(store))
    for column in ("name", "task", "model", "tokens", "dim", "metrics"):
        table.add_column(column)
    for meta in list_vectors(store):
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in meta.metrics.items())
        table.add_row(
            meta.name, meta.task, meta.model, str(meta.n_virtual_tokens), str(meta.token_dim), metrics
        )
    console().print(table)


@vectors_app.command("combine")
def combine(
    names: list[str] = typer.Argument(
        ..., help="Vectors to combine, NAME or NAME:WEIGHT (negative negates)."
    ),
    name: str = typer.Option(..., "--name", help="Name of the combined vector."),
    method: str = typer.Option("sum", "--method", help="sum | ties | dare."),
    store: Path = STORE,
) -> None:
    """Combine stored vectors (weighted sum, TIES or DARE) into a new stored vector."""
    from orchestrator.cli.render import console
    from soft_prompts.vectors import combine_vectors

    parsed = [(n.split(":")[0], float(n.split(":")[1]) if ":" in n else 1.0) for n in names]
    vector = combine_vectors(
        store, [n for n, _ in parsed], weights=[w for _, w in parsed], method=method, name=name, save=True
    )
    console().print(f"saved {vector.metadata.name} ({vector.metadata.task}) in {store}")


@vectors_app.command("similarity")
def similarity(
    names: list[str] = typer.Argument(None, help="Vectors (default: all)."), store: Path = STORE
) -> None:
    """Cosine similarity between stored vectors."""
    from rich.table import Table

    from orchestrator.cli.render import console
    from soft_prompts.vectors import similarity_matrix

    matrix = similarity_matrix(store, names or None)
    table = Table(title="cosine similarity")
    table.add_column("")
    for n in matrix.names:
        table.add_column(n)
    for n, row in zip(matrix.names, matrix.as_rows(), strict=True):
        table.add_row(n, *(f"{v:.3f}" for v in row))
    console().print(table)
