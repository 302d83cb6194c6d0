"""Score one prompt on one task with one model: the library side of ``promptfusion eval``.

Tasks are handed to the evaluators package as its ``TaskSpec`` and ``Example`` (a task's input
fields rendered into one text); the scorer is a gateway around the backend the model string names.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.tasks.task import Example, Task

if TYPE_CHECKING:
    from evaluators import EvaluationReport, TaskSpec
    from evaluators import Example as EvalExample

__all__ = ["PromptEvaluation", "evaluate_on_task", "to_eval_examples", "to_eval_spec"]

DEFAULT_MODEL = "local/smollm2-135m-instruct"


@dataclass(frozen=True)
class PromptEvaluation:
    """A report plus how long it took.

    Attributes:
        report: the evaluator's report (scores, per-example results, usage).
        split: the split evaluated.
        load_s: seconds spent loading the model (converting it on first use).
        scoring_s: seconds spent scoring the examples.
    """

    report: EvaluationReport
    split: str
    load_s: float
    scoring_s: float


def to_eval_spec(task: Task) -> TaskSpec:
    """The evaluator's view of ``task``; content-free inputs put the placeholder in every input field."""
    from evaluators import CONTENT_FREE_INPUTS, TaskSpec

    content_free = tuple(
        task.render_input(Example("content-free", dict.fromkeys(task.input_fields, text), ""))
        for text in CONTENT_FREE_INPUTS
    )
    return TaskSpec(
        name=task.name,
        labels=task.labels,
        metrics=task.metrics,
        description=task.description,
        content_free_inputs=content_free,
    )


def to_eval_examples(task: Task, examples: Sequence[Example]) -> tuple[EvalExample, ...]:
    """The evaluator's examples: input fields rendered into one text, uid kept as the id."""
    from evaluators import Example as EvalExample

    return tuple(EvalExample(input=task.render_input(e), target=e.target, id=e.uid) for e in examples)


async def evaluate_on_task(
    task: Task,
    prompt: str,
    *,
    model: str = DEFAULT_MODEL,
    split: str = "dev",
    seed: int = 0,
    limit: int | None = None,
    scoring: str = "auto",
    calibration: str = "none",
    instruction_turn: str = "system",
    concurrency: int | None = None,
    timeout: float | None = None,
    api_base: str | None = None,
    api_key_env: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> PromptEvaluation:
    """Evaluate ``prompt`` on a split of ``task``.

    Args:
        task: the task.
        prompt: the instruction: the system message, each example's input the user message; or, with
            ``instruction_turn="user"``, both in one user message (``evaluators.INSTRUCTION_TURNS``).
        model: ``<provider>/<model>``; default the embedded local model.
        split: ``train``, ``dev`` or ``test``.
        seed: the split seed.
        limit: score only the first ``limit`` examples of the split.
        scoring: ``auto`` (label scoring when possible), ``label_scores`` or ``generate``.
        calibration: ``none``, ``batch`` or ``content_free`` (label scoring only).
        instruction_turn: ``system`` or ``user`` (the campaign's ``scoring.instruction_turn``).
        concurrency: requests in flight (None: ``ModelConfig``'s default for the model).
        timeout: seconds one request may take (None: ``ModelConfig``'s default for the model).
        api_base, api_key_env: for hosted models.
        options: backend options (e.g. ``device`` for ``local/``).

    Returns:
        The report and timings.

    Raises:
        KeyError: an unknown split.
        ValueError: a bad limit or scoring mode.
        LLMError: the model failed (e.g. ``Fatal`` when it cannot be loaded).
    """
    from evaluators import INSTRUCTION_TURNS, EvalConfig, evaluate_prompt
    from orchestrator.backends.base import Fatal
    from orchestrator.config.models import ModelConfig
    from orchestrator.gateway import build_gateway

    examples = task.split(split, seed)
    if instruction_turn not in INSTRUCTION_TURNS:
        raise ValueError(
            f"instruction_turn must be one of {sorted(INSTRUCTION_TURNS)}, got {instruction_turn!r}"
        )
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        examples = examples[:limit]
    settings = ModelConfig(
        model=model,
        api_base=api_base,
        api_key_env=api_key_env,
        concurrency=concurrency,
        timeout=timeout,
        options=dict(options or {}),
    )
    config = EvalConfig(
        scoring=scoring,  # type: ignore[arg-type]
        calibration=calibration,  # type: ignore[arg-type]
        concurrency=settings.effective_concurrency,
        reraise=(Fatal,),
    )
    async with build_gateway(settings, role="scorer") as scorer:
        started = time.perf_counter()
        load = getattr(scorer.backend, "load", None)
        if load is not None:  # load (and convert) before the clock of the first request starts
            await load()
        loaded = time.perf_counter()
        report = await evaluate_prompt(
            prompt,
            to_eval_examples(task, examples),
            to_eval_spec(task),
            scorer,
            config=config,
            render_messages=INSTRUCTION_TURNS[instruction_turn],
        )
        done = time.perf_counter()
    return PromptEvaluation(report=report, split=split, load_s=loaded - started, scoring_s=done - loaded)
