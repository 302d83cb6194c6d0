"""A run's winner as it leaves this tool: the prompt (instruction and demonstrations apart), its scores
with intervals, how they were measured, the models and the task's fingerprint."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from orchestrator.errors import DataError, PromptfusionError
from orchestrator.store import RunStore

__all__ = ["ExportedWinner", "split_demos", "winner_of"]


@dataclass
class ExportedWinner:
    """What an export holds (``to_json`` is the ``json`` format).

    Attributes:
        prompt: the winner's prompt, exactly as it was scored.
        instruction: the prompt without its demonstrations.
        demos: ``[{input field: text, label field: answer}]`` parsed from the prompt (empty when it has
            none, or when the task has several input fields: the demonstrations stay in the prompt).
        scores, intervals: held-out test scores with bootstrap intervals (``[low, high]``) when the
            run finished; else the best measurement so far (no intervals).
        measured: how the scores were measured, in one line.
        task: the target task: name, fields, labels and the fingerprint of its examples.
    """

    run_id: str
    status: str
    prompt: str
    instruction: str
    demos: list[dict[str, str]]
    objective: float | None
    scores: dict[str, float]
    intervals: dict[str, list[float]]
    measured: str
    verdict: str | None
    test_examples: int | None
    models: dict[str, str | None]
    task: dict[str, Any]
    comparison: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return (
            json.dumps({"format": "promptfusion.winner/1", **asdict(self)}, indent=2, sort_keys=True) + "\n"
        )


def winner_of(store: RunStore, run_id: str) -> ExportedWinner:
    """The winner of ``run_id`` (a stopped run's best prompt so far).

    Raises:
        RunNotFound: no such run.
        PromptfusionError: the run has no scored prompt yet.
    """
    from orchestrator.comparison import final_comparison
    from orchestrator.config import Campaign

    summary = store.run(run_id)
    saved = store.result(run_id) or {}
    answer = saved.get("answer")
    if not answer or not answer.get("prompt"):
        raise PromptfusionError(f"run {run_id} has no scored prompt yet (status {summary.status})")
    campaign = Campaign.model_validate(store.config(run_id))
    task = _task_info(campaign, store.events(run_id, "task_data"))
    prompt = answer["prompt"]
    instruction, demos = split_demos(
        prompt, task.get("input_fields", ["input"]), task.get("label_field", "label")
    )
    comparison = final_comparison(saved.get("final"), saved.get("soft"))
    row = next((r for r in comparison["rows"] if "winner" in r.get("keys", ())), None)
    scores = dict(row["scores"]) if row else dict(answer.get("scores") or {})
    return ExportedWinner(
        run_id=run_id,
        status=summary.status,
        prompt=prompt,
        instruction=instruction,
        demos=demos,
        objective=answer.get("objective"),
        scores=scores,
        intervals={k: list(v) for k, v in (row or {}).get("intervals", {}).items()},
        measured=str(answer.get("measured", "")),
        verdict=((row or {}).get("verdict") or {}).get("text"),
        test_examples=comparison["n"] if row else None,
        models={
            role: getattr(getattr(campaign.models, role), "model", None) for role in ("scorer", "reference")
        },
        task=task,
        comparison=[_summary(r) for r in comparison["rows"]],
    )


def split_demos(prompt: str, input_fields: list[str], label_field: str) -> tuple[str, list[dict[str, str]]]:
    """``(instruction, demos)`` of a prompt written by ``orchestrator.search.demos.with_demos``.

    Demonstrations are split off only for a task with one input field (a demo's ``Input:`` holds the
    input as shown to the model); otherwise the prompt is returned whole as the instruction.
    """
    from orchestrator.search.demos import DEMOS_HEADER

    if DEMOS_HEADER not in prompt or len(input_fields) != 1:
        return prompt, []
    instruction, shots = prompt.split(DEMOS_HEADER, 1)
    demos = []
    for shot in shots.strip().split("\n\n"):
        given, sep, answer = shot.partition("\nAnswer: ")
        if not sep or not given.startswith("Input: "):
            return prompt, []  # not the shape with_demos writes: keep the prompt whole
        demos.append({input_fields[0]: given[len("Input: ") :], label_field: answer})
    return instruction, demos


def _task_info(campaign: Any, recorded: list[dict[str, Any]]) -> dict[str, Any]:
    """The target task's name, fields and labels, the fingerprint of its data recorded when the run
    started (``orchestrator.resume_changes.task_fingerprints``) and whether the data read now differs."""
    from orchestrator.resume_changes import task_fingerprints
    from orchestrator.tasks.resolve import load_configured_task

    config = campaign.tasks.target
    at_start = (recorded[-1].get("tasks", {}) if recorded else {}).get(config.name, {}).get("sha256")
    info: dict[str, Any] = {"name": config.name, "fingerprint": at_start}
    try:
        task = load_configured_task(config, campaign.run.seed, campaign.tasks.max_example_chars)
    except (DataError, OSError) as exc:
        return {**info, "fingerprint_note": f"task data not readable at export: {exc}"}
    now = task_fingerprints({config.name: task})[config.name]["sha256"]
    return {
        **info,
        "fingerprint": at_start or now,
        "fingerprint_note": (
            "sha256 of the examples and labels when the run started"
            if at_start
            else "sha256 of the examples and labels read at export (the run recorded none)"
        ),
        "data_changed_since_run": None if at_start is None else at_start != now,
        "source": str(task.source or config.name),
        "input_fields": list(task.input_fields),
        "label_field": task.label_field,
        "labels": list(task.labels) if task.labels else None,
        "examples": len(task.examples),
    }


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "kind": row["kind"],
        "scores": row.get("scores") or {},
        "intervals": row.get("intervals") or {},
        "verdict": (row.get("verdict") or {}).get("text"),
    }
