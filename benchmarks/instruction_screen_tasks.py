"""The tasks and instructions of the instruction-sensitivity screen (``instruction_screen.py``).

Three sources: the built-in tasks, natural binary sub-tasks of them, and classification JSONL from
OpenAI's ``evals`` wheel (MIT; unpacked by hand, see BENCHMARKS.md). Each task carries the four
instructions the screen compares: none (bare), one naming the labels, the task's description, and
a definition of each label.

The evals rows put their own instruction in the messages; only the item itself is kept as the
input (the question's fixed lead-in or trailing answer format is cut off), so that every
instruction, bare included, is the screen's own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from promptfusion_data.make_evals_tasks import EVALS_SPECS, EvalsSpec, read_rows

from orchestrator.tasks import load_builtin_task

__all__ = ["INSTRUCTION_KINDS", "ScreenTask", "instructions_for", "load_screen_tasks", "pick_examples"]

#: The instructions compared on every task, in report order.
INSTRUCTION_KINDS = ("bare", "labels", "description", "definitions")


@dataclass(frozen=True)
class ScreenTask:
    """A classification task as the screen sees it: rendered inputs, gold labels, instructions."""

    name: str
    source: str
    labels: tuple[str, ...]
    description: str
    definitions: str
    inputs: tuple[str, ...]
    targets: tuple[str, ...]


def instructions_for(task: ScreenTask) -> dict[str, str]:
    """Instruction kind -> its text (``bare`` is empty: no instruction at all)."""
    names = ", ".join(task.labels[:-1]) + f" or {task.labels[-1]}"
    return {
        "bare": "",
        "labels": f"Answer with exactly one of these labels: {names}.",
        "description": task.description,
        "definitions": task.definitions,
    }


#: Inputs longer than this are picked only when a label has too few shorter ones (cost grows with length).
MAX_PICK_CHARS = 300


def pick_examples(targets: tuple[str, ...], lengths: tuple[int, ...], n: int, seed: str) -> list[int]:
    """Indices of up to ``n`` examples, stratified by label in the task's proportions.

    Within a label the pick is random among inputs of at most ``MAX_PICK_CHARS`` characters, topped
    up with the shortest longer ones; the labels are then interleaved so that every prefix of the
    returned order keeps about the same label mix (the screen may stop after any round).
    """
    by_label: dict[str, list[int]] = {}
    for index, target in enumerate(targets):
        by_label.setdefault(target, []).append(index)
    total = len(targets)
    order: list[tuple[float, int]] = []
    for label, idx in sorted(by_label.items()):
        quota = max(1, round(n * len(idx) / total))
        short = [i for i in idx if lengths[i] <= MAX_PICK_CHARS]
        random.Random(f"{seed}:{label}").shuffle(short)
        longer = sorted((i for i in idx if lengths[i] > MAX_PICK_CHARS), key=lambda i: (lengths[i], i))
        chosen = (short + longer)[:quota]
        order += [((rank + 0.5) / len(chosen), i) for rank, i in enumerate(chosen)]
    return [i for _, i in sorted(order)][:n]


# --- built-in tasks and their sub-tasks ------------------------------------------------------------

BUILTIN_DEFINITIONS = {
    "presuppositions_as_nli": "Answer entailment if the first sentence implies the second, contradiction "
    "if it implies the second is false, and neutral otherwise.",
    "epistemic_reasoning": "Answer entailment if the premise guarantees the hypothesis is true, and "
    "non-entailment if it does not.",
    "vitaminc_fact_verification": "Answer True if the quote supports the claim, False if the quote "
    "contradicts it, and Neither if the quote does not say.",
    "analytic_entailment": "Answer entailment if the first sentence makes the second true by meaning "
    "alone, and no-entailment otherwise.",
    "multiemo_en": "Answer positive for a favourable review, negative for an unfavourable one, "
    "ambivalent when it has both good and bad points, and neutral when it gives no opinion.",
    "multiemo_en_polarity": "Answer positive if the review praises what it describes, and negative if "
    "it complains about it.",
    "irony_identification": "Answer ironic if the text means the opposite of what it literally says, "
    "and not ironic if it means what it says.",
    "snarks": "Answer (a) if statement (a) is the sarcastic one, and (b) if statement (b) is.",
    "sports_understanding": "Answer plausible if the sentence could really happen in that sport with "
    "that athlete, and implausible if it could not.",
    "causal_judgment": "Answer Yes if a typical person would say the event caused the outcome, and No "
    "if they would not.",
    "strategyqa": "Answer Yes if the statement asked about is true, and No if it is false.",
    "navigate": "Answer True if the steps bring you back to where you started, and False if they do not.",
    "formal_fallacies": "Answer valid if the conclusion follows necessarily from the premises, and "
    "invalid if it does not.",
}

# Binary sub-tasks: (name, parent, kept labels, description).
SUBTASKS = (
    ("vitaminc_true_false", "vitaminc_fact_verification", ("True", "False"),
     "Based only on the quote, is the claim True or False?"),
    ("presuppositions_entail_contradict", "presuppositions_as_nli", ("entailment", "contradiction"),
     "Does the first sentence entail or contradict the second?"),
)  # fmt: skip


def _builtin(name: str, parent: str | None = None, keep: tuple[str, ...] = (), description: str = ""):
    task = load_builtin_task(parent or name)
    labels = keep or task.labels
    rows = [(task.render_input(e), str(e.target)) for e in task.examples if e.target in labels]
    return ScreenTask(
        name=name,
        source=f"built-in {parent} ({'/'.join(keep)} only)" if parent else f"built-in {name}",
        labels=tuple(labels),
        description=description or task.description,
        definitions=BUILTIN_DEFINITIONS[parent or name],
        inputs=tuple(text for text, _ in rows),
        targets=tuple(label for _, label in rows),
    )


# --- OpenAI evals (MIT): the specs live with the script that ships the tasks that pass ----------


def _evals(spec: EvalsSpec, registry_data: Path) -> ScreenTask:
    rows = read_rows(spec, registry_data)
    return ScreenTask(
        name=spec.name,
        source=f"OpenAI evals (MIT): registry/data/{spec.path}",
        labels=spec.labels,
        description=spec.description,
        definitions=spec.definitions,
        inputs=tuple(text for text, _ in rows),
        targets=tuple(label for _, label in rows),
    )


def load_screen_tasks(evals_registry_data: Path | None) -> list[ScreenTask]:
    """Every screen task: the built-ins, their binary sub-tasks, and (if given) the evals tasks."""
    tasks = [_builtin(name) for name in BUILTIN_DEFINITIONS]
    tasks += [_builtin(name, parent, keep, text) for name, parent, keep, text in SUBTASKS]
    if evals_registry_data is not None:
        tasks += [_evals(spec, evals_registry_data) for spec in EVALS_SPECS]
    return tasks
