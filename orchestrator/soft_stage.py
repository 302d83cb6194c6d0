"""The soft-prompt stage of a campaign: the discrete winners become soft prompts on the local model.

Source prompts are text-initialised from each source task's best stage-1 prompt and tuned; their task
prompt vectors (tuned minus initialisation) are stored. The target is tuned twice: from the stage-2
winner's text, and from that text plus the mean of the source vectors. A gated fusion over the pool
(source prompts and the target prompt) is trained jointly on all tasks. Every trained prompt is saved
under the run's folder with a ``done.json`` record, so a run killed mid-stage retrains only what was
not finished. torch work happens in ``soft_prompts``, in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator.config import Campaign
from orchestrator.tasks import Task

__all__ = ["SoftModel", "local_twin", "soft_inputs", "task_data", "train_record"]

ANSWER_CUE = "\nAnswer:"


def local_twin(campaign: Campaign) -> tuple[str | None, str]:
    """The local model the soft stage tunes, or None and why there is none."""
    if not campaign.soft.enabled:
        return None, "soft.enabled is false in this campaign"
    if campaign.soft.model:
        name = campaign.soft.model
    elif campaign.models.scorer.model.startswith("local/"):
        name = campaign.models.scorer.model
    else:
        return None, (
            f"the scorer {campaign.models.scorer.model} is hosted and soft.model names no local twin "
            "(set soft.model: local/<model>)"
        )
    return name.removeprefix("local/"), ""


def soft_inputs(task: Task, examples: Sequence[Any]) -> list[str]:
    """The text a soft prompt is prepended to: the task's input and an answer cue (labels follow)."""
    return [task.render_input(e) + ANSWER_CUE for e in examples]


def prompt_examples(task: Task, examples: Sequence[Any]) -> tuple:
    """``soft_prompts.data.PromptExample`` pairs: the soft input and the target with a leading space."""
    from soft_prompts.data import PromptExample

    texts = soft_inputs(task, examples)
    return tuple(PromptExample(text, " " + e.target) for text, e in zip(texts, examples, strict=True))


def task_data(task: Task, train: Sequence[Any], dev: Sequence[Any]):
    """``soft_prompts.data.TaskData`` for a classification task (labels with a leading space)."""
    from soft_prompts.data import TaskData

    labels = tuple(" " + label for label in task.labels or ())
    return TaskData(
        name=task.name, train=prompt_examples(task, train), dev=prompt_examples(task, dev), labels=labels
    )


class SoftModel:
    """The local twin, loaded on first use (once per process) and shared by the soft nodes."""

    def __init__(self, name: str, options: Mapping[str, Any] | None = None):
        self.name = name
        self.options = dict(options or {})
        self._loaded: tuple[Any, Any] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> tuple[Any, Any]:
        async with self._lock:
            if self._loaded is None:
                from orchestrator.local_model import load_causal_lm

                self._loaded = await asyncio.to_thread(
                    load_causal_lm,
                    self.name,
                    device=self.options.get("device"),
                    cache_dir=self.options.get("cache_dir"),
                )
            return self._loaded


def train_record(out_dir: Path) -> dict[str, Any] | None:
    """The saved record of a finished training in ``out_dir``, or None when it must (re)run."""
    record = out_dir / "done.json"
    if not record.is_file():
        return None
    try:
        return json.loads(record.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def save_record(out_dir: Path, record: Mapping[str, Any]) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "done.json.tmp"
    tmp.write_text(json.dumps(record, sort_keys=True))
    tmp.replace(out_dir / "done.json")
    return dict(record)


def curve_of(result: Any) -> list[dict[str, Any]]:
    """Training curve points ``{"step", "loss", "dev"}`` from a ``TrainResult`` (no NaN)."""
    points = []
    for progress in result.history:
        loss = None if progress.loss is None or math.isnan(progress.loss) else float(progress.loss)
        points.append({"step": progress.step, "loss": loss, "dev": progress.dev_score})
    return points
