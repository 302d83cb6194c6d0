"""Reflective proposals (GEPA's mutation): show the reference LLM a parent prompt, examples it got
wrong with the scorer's actual outputs and the expected answers, and its scores; ask for a diagnosis,
then a revised prompt. Parents come from the per-example Pareto front.

Everything taken from data or from an LLM (the parent prompt, inputs, outputs, answers) is inserted
between data tags and neutralised (``evaluators.delimiting.neutralize``), so a scorer output that
reads like an instruction, or tries to close its tag, stays data.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from evaluators.delimiting import neutralize
from prompts import render

__all__ = [
    "build_merge_prompt",
    "build_reflection_prompt",
    "complementary_pair",
    "example_front",
    "operator_stats",
    "pick_parent",
]


def _tagged(tag: str, text: str) -> str:
    return f"<{tag}>\n{neutralize(str(text))}\n</{tag}>"


def build_reflection_prompt(
    *,
    task_descriptions: Sequence[str],
    parent_prompt: str,
    scores: Mapping[str, float],
    failures: Sequence[tuple[str, str, str]],
    answer_format: str,
    max_words: int,
) -> str:
    """Render ``prompts/templates/reflect.txt``.

    Args:
        task_descriptions: one line per task.
        parent_prompt: the instruction to revise.
        scores: its raw score per dimension (the per-dimension feedback).
        failures: (input, the scorer's actual output, the expected answer) of examples it got wrong.
        answer_format: how answers must look.
        max_words: length limit stated to the reference LLM.
    """
    blocks = [
        "\n".join(
            [
                f"### Example {i}",
                _tagged("task_input", given),
                _tagged("candidate_output", output),
                _tagged("reference_answer", expected),
            ]
        )
        for i, (given, output, expected) in enumerate(failures, 1)
    ]
    feedback = "\n".join(f"- {name}: {value:.3f}" for name, value in sorted(scores.items()) if value == value)
    return render(
        "reflect",
        task_descriptions="\n".join(f"- {d}" for d in task_descriptions),
        candidate_prompt=neutralize(parent_prompt),
        feedback=feedback or "(no scores)",
        failures="\n\n".join(blocks) or "(none: every minibatch example was answered right)",
        answer_format=answer_format,
        max_words=max_words,
    )


def build_merge_prompt(
    *,
    task_descriptions: Sequence[str],
    first_prompt: str,
    first_wins: Sequence[tuple[str, str]],
    second_prompt: str,
    second_wins: Sequence[tuple[str, str]],
    answer_format: str,
    max_words: int,
) -> str:
    """Render ``prompts/templates/merge.txt``: two parents, each with (input, correct answer) of the
    examples it gets right and the other gets wrong, as neutralised data."""

    def examples(rows: Sequence[tuple[str, str]]) -> str:
        blocks = [
            f"### Example {i}\n" + _tagged("task_input", given) + "\n" + _tagged("reference_answer", expected)
            for i, (given, expected) in enumerate(rows, 1)
        ]
        return "\n\n".join(blocks) or "(none)"

    return render(
        "merge",
        task_descriptions="\n".join(f"- {d}" for d in task_descriptions),
        first_prompt=neutralize(first_prompt),
        first_wins=examples(first_wins),
        second_prompt=neutralize(second_prompt),
        second_wins=examples(second_wins),
        answer_format=answer_format,
        max_words=max_words,
    )


def complementary_pair(
    front: Sequence[tuple[Mapping[str, Any], int]],
) -> tuple[Mapping[str, Any], Mapping[str, Any], list[tuple[str, int]], list[tuple[str, int]]] | None:
    """The two front members that are best on the most different examples (the largest smaller side of
    their two set differences), with those examples as (task, index); None without such a pair."""
    members = [cand for cand, _ in front]
    best, best_gain = None, 0
    for i, first in enumerate(members):
        for second in members[i + 1 :]:
            a, b = _correct(first), _correct(second)
            gain = min(len(a - b), len(b - a))
            if gain > best_gain:
                best, best_gain = (first, second, sorted(a - b), sorted(b - a)), gain
    return best


def _correct(candidate: Mapping[str, Any]) -> frozenset[tuple[str, int]]:
    return frozenset(
        (task, i)
        for task, result in candidate["per_task"].items()
        for i in range(int(result["n"]))
        if i not in set(result["wrong"])
    )


def example_front(candidates: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], int]]:
    """GEPA's instance-level Pareto front: candidates best on at least one minibatch example (right where
    some candidate is), each weighted by the number of such examples; a candidate whose right answers
    are a subset of another's is dropped, so a prompt that alone gets some examples right survives
    even when its mean is not the best.

    Returns:
        ``[(candidate, weight)]`` with ``weight >= 1``, in the order given.
    """
    full = [c for c in candidates if not c.get("screened_out")]
    if not full:
        return []
    correct = [_correct(c) for c in full]
    examples = set().union(*correct)
    keep = [
        i
        for i, mine in enumerate(correct)
        if not any(mine < other or (mine == other and j < i) for j, other in enumerate(correct) if j != i)
    ]
    weights = {i: 0 for i in keep}
    for example in examples:
        for i in keep:
            if example in correct[i]:
                weights[i] += 1
    front = [(full[i], weights[i]) for i in keep if weights[i] > 0]
    return front or [(max(full, key=lambda c: c.get("objective", 0.0)), 1)]


def pick_parent(front: Sequence[tuple[Mapping[str, Any], int]], rng: random.Random) -> Mapping[str, Any]:
    """A parent drawn from the front, with probability proportional to its weight."""
    candidates, weights = zip(*front, strict=True)
    return rng.choices(candidates, weights=weights, k=1)[0]


def operator_stats(
    history: Sequence[Mapping[str, Any]], format_ignored: Sequence[Mapping[str, Any]] = ()
) -> dict[str, dict[str, float]]:
    """Per operator (a candidate's ``origin``): candidates it produced, how many were accepted, the rate;
    and ``format_ignored``, the replies it got without the asked-for format (from those events), when
    there were any (an operator with ignored replies only still gets a row, with 0 candidates)."""
    stats: dict[str, dict[str, float]] = {}
    for cand in history:
        row = stats.setdefault(cand["origin"], {"candidates": 0, "accepted": 0})
        row["candidates"] += 1
        row["accepted"] += bool(cand.get("accepted"))
    for event in format_ignored:
        row = stats.setdefault(event["operator"], {"candidates": 0, "accepted": 0})
        row["format_ignored"] = row.get("format_ignored", 0) + event["ignored"]
    for row in stats.values():
        row["acceptance_rate"] = row["accepted"] / row["candidates"] if row["candidates"] else 0.0
    return stats
