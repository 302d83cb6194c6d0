"""``promptfusion soft train`` and ``promptfusion vectors list|combine|similarity``: thin shells over
``soft_prompts``; models are resolved here (embedded names, GGUF files, HF directories)."""

from __future__ import annotations

from pathlib import Path

import typer

soft_app = typer.Typer(help="Soft prompts on a local model: train and export.", no_args_is_help=True)
vectors_app = typer.Typer(help="Task prompt vectors: list, combine, compare.", no_args_is_help=True)
STORE = typer.Option(Path("runs/vectors"), "--store", help="Task-prompt-vector store (folder).")


def register(app: typer.Typer) -> None:
    app.add_typer(soft_app, name="soft")
    app.add_typer(vectors_app, name="vectors")


def _default(name: str):
    """The stage's default of a setting: one source of truth, the campaign's ``SoftConfig``."""
    from orchestrator.config import SoftConfig

    return SoftConfig.model_fields[name].default


@soft_app.command("train")
def train(
    task: str = typer.Option(..., "--task", help="Built-in task name or a JSONL/CSV file."),
    model: str = typer.Option("local/smollm2-135m-instruct", "--model", help="Local model to tune on."),
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
    seed: int = typer.Option(0, "--seed", help="Seed of splits, init and batches."),
    out: Path = typer.Option(Path("runs/soft"), "--out", help="Folder for the tuned prompt."),
    store: Path = STORE,
    peft: Path = typer.Option(None, "--peft", help="Also export a PEFT prompt-tuning adapter here."),
    calibration: str = typer.Option(
        "batch", "--calibration", help="Test-split label scores: batch | none (as scoring.calibration)."
    ),
) -> None:
    """Tune a soft prompt on TASK; store its task prompt vector; optionally export it for PEFT."""
    from orchestrator.cli.render import console
    from orchestrator.config import SoftConfig
    from orchestrator.soft.data import SoftSplits
    from orchestrator.soft.training import train_task_prompt
    from orchestrator.soft.twin import SoftModel
    from orchestrator.tasks import resolve_task
    from soft_prompts.api import export_prompt_as_peft
    from soft_prompts.config import PromptInit

    settings = SoftConfig(
        n_virtual_tokens=n_tokens,
        steps=steps,
        batch_size=batch_size,
        learning_rate=lr,
        train_examples=train_examples,
        dev_examples=dev_examples,
        eval_every=eval_every,
    )
    splits = SoftSplits.of(resolve_task(task), seed, train_examples, dev_examples)
    names = tuple(v.strip() for v in (vectors or "").split(",") if v.strip())
    store_dir = str(store) if names else None
    prompt_init = PromptInit(
        kind=init, text=text, path=init_path, store_dir=store_dir, vector_names=names, seed=seed
    )
    twin = SoftModel(model.removeprefix("local/"))
    base, tokenizer = twin.load()
    with _ProgressBar(console(), splits.task.name, steps) as progress:
        record = train_task_prompt(
            base,
            tokenizer,
            twin.name,
            splits,
            prompt_init,
            settings,
            seed,
            out / splits.task.name,
            store,
            progress=progress,
        )
    console().print(_summary(record, store))
    if splits.test:
        console().print(_held_out(base, tokenizer, splits, record.prompt_dir, seed, calibration))
    if peft is not None:
        console().print(f"PEFT adapter: {export_prompt_as_peft(record.prompt_dir, peft, base_model=base)}")


def _summary(record, store: Path) -> str:
    steps = record.curve[-1].step if record.curve else 0
    vector = f"vector: {record.vector} in {store}" if record.vector else "no vector stored"
    untrained = (
        "" if record.trained_past_start else " (not trained past its start: the initial prompt was kept)"
    )
    return (
        f"trained {steps} steps, best dev {record.best_dev}{untrained}; prompt: {record.prompt_dir}; {vector}"
    )


def _held_out(base, tokenizer, splits, prompt_dir, seed: int, calibration: str) -> str:
    """The tuned prompt on the test split, as the campaign's final comparison measures it, beside the
    majority-class rate of the same split."""
    from evaluators.trivial_baselines import trivial_baselines
    from orchestrator.soft.final import held_out_row

    row = held_out_row(
        base, tokenizer, splits, prompt_dir, name="soft prompt", seed=seed, calibration=calibration
    )
    targets = [example.target for example in splits.test]
    majority = trivial_baselines(targets, splits.task.labels, metrics=("accuracy",), seed=seed)[0]
    low, high = row.ci
    m_low, m_high = majority.intervals["accuracy"]
    return (
        f"test ({len(targets)} examples, {row.calibration} calibration): accuracy {row.accuracy:.3f} "
        f"[{low:.2f}, {high:.2f}]; majority {majority.description}: "
        f"{majority.scores['accuracy']:.3f} [{m_low:.2f}, {m_high:.2f}]"
    )


class _ProgressBar:
    """A rich progress bar fed by ``SoftProgress`` reports: step, loss, dev score, time left."""

    def __init__(self, console, name: str, steps: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task = self._bar.add_task(name, total=steps, info="")

    def __enter__(self):
        self._bar.__enter__()
        return self.update

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def update(self, progress) -> None:
        parts = [
            f"loss {progress.loss:.3f}" if progress.loss is not None else "",
            f"dev {progress.dev:.3f}" if progress.dev is not None else "",
        ]
        self._bar.update(self._task, completed=progress.step, info="  ".join(p for p in parts if p))


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
