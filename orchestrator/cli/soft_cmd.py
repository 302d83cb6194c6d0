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


@soft_app.command("train")
def train(
    task: str = typer.Option(..., "--task", help="Built-in task name or a JSONL/CSV file."),
    model: str = typer.Option("local/smollm2-135m-instruct", "--model", help="Local model to tune on."),
    init: str = typer.Option("text", "--init", help="text | vocab | random | stored | vectors."),
    text: str = typer.Option(None, "--text", help="Discrete prompt for --init text."),
    init_path: str = typer.Option(None, "--init-path", help="Prompt dir or PEFT adapter for --init stored."),
    vectors: str = typer.Option(None, "--vectors", help="Comma-separated vector names for --init vectors."),
    n_tokens: int = typer.Option(8, "--n-tokens", help="Virtual tokens."),
    steps: int = typer.Option(30, "--steps", help="Training steps."),
    batch_size: int = typer.Option(8, "--batch-size", help="Examples per step."),
    train_examples: int = typer.Option(32, "--train-examples", help="Training examples (few-shot)."),
    eval_every: int = typer.Option(10, "--eval-every", help="Steps between dev checks (0: keep the last)."),
    seed: int = typer.Option(0, "--seed", help="Seed of splits, init and batches."),
    out: Path = typer.Option(Path("runs/soft"), "--out", help="Folder for the tuned prompt."),
    store: Path = STORE,
    peft: Path = typer.Option(None, "--peft", help="Also export a PEFT prompt-tuning adapter here."),
) -> None:
    """Tune a soft prompt on TASK; store its task prompt vector; optionally export it for PEFT."""
    from orchestrator.cli.render import console
    from orchestrator.local_model import load_causal_lm
    from orchestrator.soft_stage import task_data
    from orchestrator.tasks import resolve_task
    from soft_prompts.api import export_prompt_as_peft, train_soft_prompt
    from soft_prompts.config import PromptInit, TrainConfig

    data_task = resolve_task(task)
    splits = data_task.splits(seed)
    data = task_data(data_task, splits.train[:train_examples], splits.dev[:16])
    names = tuple(v.strip() for v in (vectors or "").split(",") if v.strip())
    prompt_init = PromptInit(
        kind=init,
        text=text,
        path=init_path,
        store_dir=str(store) if names else None,
        vector_names=names,
        seed=seed,
    )
    base, tokenizer = load_causal_lm(model.removeprefix("local/"))
    config = TrainConfig(
        max_steps=steps, batch_size=batch_size, eval_every=eval_every, seed=seed, use_accelerate=False
    )
    out_dir = out / data_task.name
    run = train_soft_prompt(
        base,
        tokenizer,
        data,
        init=prompt_init,
        n_virtual_tokens=n_tokens,
        config=config,
        model_id=model.removeprefix("local/"),
        out_dir=out_dir,
        vector_store=store,
    )
    console().print(
        f"trained {run.result.steps} steps, best dev accuracy {run.result.best_dev_score}; "
        f"prompt: {run.prompt_dir}; vector: {run.vector_name} in {store}"
    )
    if peft is not None:
        console().print(f"PEFT adapter: {export_prompt_as_peft(run.prompt_dir, peft, base_model=base)}")


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
