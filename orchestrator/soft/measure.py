"""A stored soft prompt measured on held-out examples by the discrete prompts' own scorer.

The discrete prompts of a campaign are scored by ``evaluators.evaluate_prompt`` through the local backend:
the chat template with the instruction as the system message, label log-likelihoods from
``orchestrator.local_model.scoring.score_items``, then the campaign's calibration and metrics. A soft prompt
goes through exactly that code: :class:`SoftPromptScorer` is a local backend whose engine puts the prompt's
virtual tokens where the system message's content sits (``LocalEngine(instruction=...)``), and the evaluator,
its calibration and its bootstrap intervals are the ones the discrete rows get. A soft prompt initialised
from a discrete prompt's text (one virtual token per text token) therefore scores, before training, what that
discrete prompt scores.

Both the campaign's final comparison and ``promptfusion soft train`` measure soft prompts here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator.soft.data import SoftSplits
from orchestrator.soft.results import ComparisonRow

__all__ = ["SoftPromptScorer", "held_out_row", "measure_prompt"]

# One batch of held-out examples may take minutes on a CPU; the local backend's timeout is per batch.
_BATCH_TIMEOUT_S = 3600.0


class SoftPromptScorer:
    """The evaluator's ``LabelScorer`` for one soft prompt: the local backend with virtual tokens in the
    system message's place.

    Args:
        model, tokenizer: the frozen base model the prompt was tuned on (shared, not copied).
        instruction: ``(n_virtual, d)`` prompt embeddings; None scores each chat's own system text (the
            discrete path itself, for side-by-side benchmarks).
        options: the scorer's ``local/`` options (``scoring_precision``, ``max_batch_tokens``...), so the
            soft rows are computed in the precision the discrete rows were.
    """

    supports_label_scoring = True

    def __init__(self, model: Any, tokenizer: Any, instruction: Any, options: Any = None):
        from orchestrator.backends.base import BackendSettings, typed_options
        from orchestrator.backends.local import LocalBackend
        from orchestrator.local_model.engine import LocalEngine
        from orchestrator.local_model.options import LocalModelOptions

        typed = typed_options(LocalModelOptions, options if options is not None else {})
        settings = BackendSettings(timeout=_BATCH_TIMEOUT_S, options=typed)
        engine = LocalEngine(
            "soft prompt",
            typed,
            model=model,
            tokenizer=tokenizer,
            instruction=instruction,
        )
        self._backend = LocalBackend("soft-prompt", settings, engine=engine)

    async def score_labels(self, messages: Sequence[Mapping[str, str]], labels: Sequence[str]) -> Any:
        """Label probabilities of one chat (its system text is replaced by the soft prompt)."""
        from orchestrator.backends.base import ChatRequest

        return await self._backend.score_labels(ChatRequest.from_messages(messages), labels)

    async def aclose(self) -> None:
        await self._backend.aclose()


async def measure_prompt(
    scorer: Any, prompt: str, splits: SoftSplits, *, calibration: str, concurrency: int = 64
) -> Any:
    """``evaluators.EvaluationReport`` of ``prompt`` through ``scorer`` on ``splits.test``: the discrete
    rows' evaluation (label scores, ``calibration``, metrics)."""
    from evaluators import EvalConfig, evaluate_prompt
    from orchestrator.backends.base import Fatal
    from orchestrator.tasks.evaluation import to_eval_examples, to_eval_spec

    task = splits.task
    config = EvalConfig(
        scoring="label_scores",
        calibration=calibration,  # type: ignore[arg-type]
        concurrency=concurrency,
        reraise=(Fatal,),
    )
    return await evaluate_prompt(
        prompt, to_eval_examples(task, splits.test), to_eval_spec(task), scorer, config=config
    )


async def held_out_row(
    model: Any,
    tokenizer: Any,
    splits: SoftSplits,
    prompt_dir: str | Path,
    task_id: int = 0,
    *,
    name: str,
    seed: int,
    calibration: str = "batch",
    options: Any = None,
) -> ComparisonRow:
    """A stored soft prompt on the test split: accuracy with its bootstrap interval, ECE, answers.

    Args:
        model, tokenizer: the frozen base model the prompt was tuned on.
        splits: the task's soft splits (``splits.test`` is scored).
        prompt_dir: the saved prompt; ``task_id`` selects a task of a fused prompt.
        name: the row's name.
        seed: bootstrap seed.
        calibration: ``scoring.calibration`` (``none``, ``batch`` or ``content_free``), applied by the
            evaluator exactly as to the discrete rows.
        options: the scorer's ``local/`` options.

    Raises:
        ValueError: the task has no labels.
    """
    from soft_prompts.checkpoint import load_prompt_module

    if not splits.task.labels:
        raise ValueError(f"task {splits.task.name}: a soft prompt is measured on a task with labels")
    instruction = load_prompt_module(prompt_dir).static_prompt(task_id).detach()
    scorer = SoftPromptScorer(model, tokenizer, instruction, options)
    try:
        report = await measure_prompt(scorer, f"[{name}]", splits, calibration=calibration)
    finally:
        await scorer.aclose()
    return row_of(report, name, "soft", seed)


# The held-out dimensions whose intervals a row carries: those the discrete rows carry.
_CI_DIMENSIONS = ("accuracy", "balanced_accuracy", "macro_f1", "ece")


def row_of(report: Any, name: str, kind: str, seed: int) -> ComparisonRow:
    """A comparison row from an evaluation report: its scores, the evaluator's bootstrap intervals (those the
    discrete rows get from the same report type and seed), ECE and answers."""
    import math

    scores = {k: float(v) for k, v in report.scores.items() if not math.isnan(v)}
    intervals = {}
    for dimension in _CI_DIMENSIONS:
        if dimension in scores:
            ci = report.confidence_interval(dimension, n_resamples=1000, seed=seed)
            intervals[dimension] = [float(ci.low), float(ci.high)]
    return ComparisonRow(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        accuracy=scores.get("accuracy"),
        ci=intervals.get("accuracy"),
        ece=scores.get("ece"),
        predictions=[example.prediction for example in report.examples],
        calibration=report.label_calibration,
        scores=scores,
        intervals=intervals,
    )
