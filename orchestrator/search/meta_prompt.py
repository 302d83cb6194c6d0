"""Builds the reference LLM's meta-prompt from the task, exemplars and the scored history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator.clip import clip
from prompts import render

__all__ = ["build_meta_prompt", "format_history"]

_MAX_INPUT_CHARS = 400


def format_history(history: Sequence[Mapping], top_k: int, dimensions: Sequence[str]) -> str:
    """The ``top_k`` best candidates, sorted ascending by objective (OPRO's order: best last).

    Each entry shows the instruction and its score per dimension, so the reference LLM sees trade-offs,
    not one number. Entries without an ``objective`` (prompts still being scored) are listed first,
    marked as not measured.
    """
    unscored = [c for c in history if "objective" not in c]
    ranked = sorted((c for c in history if "objective" in c), key=lambda c: (c["objective"], c["id"]))
    ranked = ranked[-top_k:]
    if not ranked and not unscored:
        return "(none yet)"
    # Starting prompts whose scores are not in yet (stage 1's overlapped first round) come first.
    lines = [f"<instruction>{c['prompt']}</instruction>\nscore: not measured yet" for c in unscored]
    for cand in ranked:
        dims = " ".join(
            f"{d}={cand['scores'][d]:.2f}" for d in dimensions if cand["scores"].get(d) is not None
        )
        lines.append(f"<instruction>{cand['prompt']}</instruction>\nscore {cand['objective']:.3f} ({dims})")
    return "\n\n".join(lines)


def build_meta_prompt(
    *,
    task_descriptions: Sequence[str],
    exemplars: Sequence[tuple[str, str]],
    history: Sequence[Mapping],
    dimensions: Sequence[str],
    top_k: int,
    answer_format: str,
    max_words: int,
) -> str:
    """Render ``prompts/templates/meta_prompt.txt``.

    Args:
        task_descriptions: one line per task the prompt must serve (several in stage 1).
        exemplars: (input, correct answer) pairs, including some the current best gets wrong.
        history: scored candidates (dicts with id, prompt, objective, scores).
        dimensions: dimension names to show next to each score.
        top_k: how many earlier instructions to show.
        answer_format: how answers must look, e.g. "answer with one of: yes, no".
        max_words: length limit stated to the reference LLM.
    """
    tasks = "\n".join(f"- {d}" for d in task_descriptions)
    shots = "\n\n".join(f"Input: {clip(x, _MAX_INPUT_CHARS)}\nAnswer: {y}" for x, y in exemplars) or "(none)"
    return render(
        "meta_prompt",
        task_descriptions=tasks,
        exemplars=shots,
        history=format_history(history, top_k, dimensions),
        answer_format=answer_format,
        max_words=max_words,
    )
