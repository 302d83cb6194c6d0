"""A stored soft prompt measured on the held-out test split: the one measurement the campaign's final
comparison (``soft/final.py``, a graph node) and ``promptfusion soft train`` (``soft/standalone.py``) share.

No graph code here: the standalone command imports this without pulling in LangGraph or the search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.soft.data import SoftSplits, soft_inputs
from orchestrator.soft.results import ComparisonRow

__all__ = ["held_out_row"]


def held_out_row(
    model: Any,
    tokenizer: Any,
    splits: SoftSplits,
    prompt_dir: str | Path,
    task_id: int = 0,
    *,
    name: str,
    seed: int,
    calibration: str = "batch",
) -> ComparisonRow:
    """A stored soft prompt on the test split: accuracy with its bootstrap interval, ECE, answers.

    The campaign's final comparison and ``promptfusion soft train`` both measure soft prompts here.

    Args:
        model, tokenizer: the frozen base model the prompt was tuned on.
        splits: the task's soft splits (``splits.test`` is scored).
        prompt_dir: the saved prompt; ``task_id`` selects a task of a fused prompt.
        name: the row's name.
        seed: bootstrap seed.
        calibration: ``scoring.calibration``; ``batch`` is applied as to the discrete rows,
            ``content_free`` would need the soft prompt on content-free inputs and is left raw.
    """
    from evaluators import batch_calibrate, expected_calibration_error
    from evaluators.bootstrap import bootstrap_ci
    from soft_prompts.transfer import score_prompt_dir

    task, test = splits.task, splits.test
    gold = [task.labels.index(e.target) for e in test]
    labels = [" " + label for label in task.labels]
    probs = score_prompt_dir(model, tokenizer, prompt_dir, soft_inputs(task, test), labels, task_id)
    applied = "batch" if calibration == "batch" else "none"
    if applied == "batch":
        probs = batch_calibrate(probs).tolist()
    answers = [max(range(len(p)), key=p.__getitem__) for p in probs]
    correct = [float(a == g) for a, g in zip(answers, gold, strict=True)]
    ci = bootstrap_ci(correct, seed=seed)
    return ComparisonRow(
        name=name,
        kind="soft",
        accuracy=sum(correct) / len(correct),
        ci=[float(ci.low), float(ci.high)],
        ece=float(expected_calibration_error(probs, gold)),
        predictions=[task.labels[a] for a in answers],  # for paired comparisons and flags
        calibration=applied,
    )
