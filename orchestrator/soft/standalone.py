"""One soft prompt on one task outside a campaign: what ``promptfusion soft train`` runs.

The same parts as the campaign's soft stage, in the same order: the task's seeded splits
(:class:`~orchestrator.soft.data.SoftSplits`), the local twin (:class:`~orchestrator.soft.twin.SoftModel`),
:func:`~orchestrator.soft.training.train_task_prompt` with the stage's ``SoftConfig``, and the test split
measured by :func:`~orchestrator.soft.measure.held_out_row` beside the majority-class rate. The CLI only
parses its options into a ``SoftConfig`` and a ``PromptInit``, calls :func:`train_on_task`, and renders the
result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.config import SoftConfig
from orchestrator.soft.data import SoftSplits
from orchestrator.soft.measure import held_out_row
from orchestrator.soft.results import ComparisonRow, TrainedPrompt
from orchestrator.soft.training import ProgressSink, train_task_prompt
from orchestrator.soft.twin import SoftModel, check_soft_precision

__all__ = ["HeldOut", "TaskTraining", "train_on_task"]


@dataclass(frozen=True)
class HeldOut:
    """The tuned prompt on the test split, beside the majority-class rate of the same split.

    Attributes:
        row: accuracy with its bootstrap interval, ECE and answers (as in the campaign's comparison).
        test_size: examples in the test split.
        majority: ``evaluators.trivial_baselines.TrivialBaseline`` of the majority class.
    """

    row: ComparisonRow
    test_size: int
    majority: Any


@dataclass(frozen=True)
class TaskTraining:
    """What :func:`train_on_task` produced.

    Attributes:
        task: the task's name.
        record: the trained prompt (where it is saved, curve, best step, stored vector); None on the
            non-zero ranks of an ``accelerate launch`` run, where rank 0 saves, measures and reports.
        vector_store: the task-prompt-vector store.
        held_out: the test-split measurement (None when the task has no test split).
        peft_dir: the exported PEFT adapter, if one was asked for.
    """

    task: str
    record: TrainedPrompt | None
    vector_store: Path
    held_out: HeldOut | None
    peft_dir: Path | None


def train_on_task(
    task: str,
    model: str,
    init: Any,
    settings: SoftConfig,
    seed: int,
    out_dir: Path,
    vector_store: Path,
    *,
    calibration: str = "batch",
    peft_dir: Path | None = None,
    progress: ProgressSink | None = None,
) -> TaskTraining:
    """Tune a soft prompt on ``task``, store its vector, measure it on the test split, optionally export it.

    Args:
        task: a built-in task name or a JSONL/CSV file.
        model: the local model (``local/<name>``, an embedded name, a GGUF file or an HF directory).
        init: a ``soft_prompts.config.PromptInit``.
        settings: the stage's settings (as a campaign's ``soft:`` section).
        seed: seeds the splits, the initialisation and the batches.
        out_dir: the prompt is saved under ``out_dir/<task name>``.
        vector_store: its task prompt vector is stored here (named after the task).
        calibration: label scores on the test split, ``none``, ``batch`` or ``content_free`` (as
            ``scoring.calibration``).
        peft_dir: also export the prompt as a PEFT prompt-tuning adapter here.
        progress: receives :class:`~orchestrator.soft.training.SoftProgress` reports.

    Returns:
        A :class:`TaskTraining`.

    Raises:
        ValueError: ``settings.precision`` cannot run here, or the task or init is invalid.
    """
    from orchestrator.tasks import resolve_task

    check_soft_precision(settings.precision)
    splits = SoftSplits.of(resolve_task(task), seed, settings.train_examples, settings.dev_examples)
    twin = SoftModel(model.removeprefix("local/"))
    base, tokenizer = twin.load()
    record = train_task_prompt(
        base,
        tokenizer,
        twin.name,
        splits,
        init,
        settings,
        seed,
        out_dir / splits.task.name,
        vector_store,
        progress=progress,
    )
    from soft_prompts.train_step import is_main_process

    if not is_main_process():
        return TaskTraining(splits.task.name, None, vector_store, None, None)
    held_out = (
        _held_out(base, tokenizer, splits, record.prompt_dir, seed, calibration) if splits.test else None
    )
    exported = None
    if peft_dir is not None:
        from soft_prompts.api import export_prompt_as_peft

        exported = export_prompt_as_peft(record.prompt_dir, peft_dir, base_model=base)
    return TaskTraining(splits.task.name, record, vector_store, held_out, exported)


def _held_out(base, tokenizer, splits: SoftSplits, prompt_dir: str, seed: int, calibration: str) -> HeldOut:
    import asyncio

    from evaluators.trivial_baselines import trivial_baselines

    row = asyncio.run(
        held_out_row(
            base, tokenizer, splits, prompt_dir, name="soft prompt", seed=seed, calibration=calibration
        )
    )
    targets = [example.target for example in splits.test]
    majority = trivial_baselines(targets, splits.task.labels, metrics=("accuracy",), seed=seed)[0]
    return HeldOut(row, len(targets), majority)
