"""Label probabilities estimated from the first generated token's top log-probabilities.

Hosted chat APIs do not score arbitrary continuations, but those with ``top_logprobs`` tell us the
likeliest first tokens of the answer. A label is credited with the mass of every offered token that
is a prefix of it (case- and leading-space-insensitive: ``" Yes"`` and ``"yes"`` both count for
``"Yes"``); a token that is a prefix of several labels is split equally between them. The result is
renormalised over the labels. It is an estimate: labels sharing their first token cannot be told apart,
and a label absent from the top list gets the smallest offered log-probability, the k-th
alternative's (an upper bound of its true first-token mass); when no offered token starts any label,
every label gets that bound, hence a tie. The run says so when it starts (``scoring.capability``).
Servers that score whole labels are asked that way instead (``whole_label``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable, Sequence

from orchestrator.backends.base import ChatRequest, Completion, LabelScores, Unsupported

__all__ = ["LABEL_TOP_LOGPROBS", "label_scores_from_first_token", "score_labels_by_first_token"]

# OpenAI's maximum; vLLM's default ``max_logprobs`` is 20 as well.
LABEL_TOP_LOGPROBS = 20


async def score_labels_by_first_token(
    complete: Callable[[ChatRequest], Awaitable[Completion]],
    model: str,
    request: ChatRequest,
    labels: Sequence[str],
) -> LabelScores:
    """Ask for one token with ``top_logprobs`` through ``complete`` and estimate the labels from it.

    Args:
        complete: the backend's ``complete``.
        model: the model string, named in errors.
        request: the scoring request (its temperature and length are replaced by 0 and 1 token).
        labels: the label set.

    Raises:
        Unsupported: no log-probabilities came back.
    """
    probe = dataclasses.replace(
        request, temperature=0.0, max_tokens=1, logprobs=True, top_logprobs=LABEL_TOP_LOGPROBS
    )
    completion = await complete(probe)
    if not completion.logprobs:
        raise Unsupported(f"{model}: the server returned no logprobs, cannot score labels")
    first = completion.logprobs[0]
    return label_scores_from_first_token(
        first.top or ((first.token, first.logprob),),
        labels,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        cost_usd=completion.cost_usd,
    )


def _normalise(text: str) -> str:
    return text.strip().lower()


def label_scores_from_first_token(
    top: Sequence[tuple[str, float]],
    labels: Sequence[str],
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: float | None = None,
) -> LabelScores:
    """Estimate ``LabelScores`` from the first answer token's alternatives.

    Args:
        top: ``(token, logprob)`` alternatives for the first generated token.
        labels: the label set, at least two, distinct after case/space normalisation.
        prompt_tokens, completion_tokens, cost_usd: usage of the call, copied into the result.

    Returns:
        ``LabelScores`` whose ``probs`` sum to 1 and whose ``logprobs`` are the estimated
        first-token log-probabilities of each label (not renormalised).

    Raises:
        ValueError: fewer than two labels, or labels equal after normalisation, or no alternatives.
    """
    normalised = [_normalise(label) for label in labels]
    if len(labels) < 2:
        raise ValueError(f"label scoring needs at least two labels, got {list(labels)!r}")
    if len(set(normalised)) != len(normalised) or "" in normalised:
        raise ValueError(f"labels must be distinct and non-empty ignoring case and spaces: {list(labels)!r}")
    credited: list[list[float]] = [[] for _ in labels]
    for token, logprob in top:
        key = _normalise(token)
        if not key:
            continue
        matches = [i for i, label in enumerate(normalised) if label.startswith(key)]
        for i in matches:
            credited[i].append(logprob - math.log(len(matches)))
    if not top:
        raise ValueError("no first-token alternatives to estimate label scores from")
    floor = min(logprob for _, logprob in top)
    label_logprobs = [_logsumexp(masses) if masses else floor for masses in credited]
    norm = _logsumexp(label_logprobs)
    return LabelScores(
        probs={label: math.exp(lp - norm) for label, lp in zip(labels, label_logprobs, strict=True)},
        logprobs=dict(zip(labels, label_logprobs, strict=True)),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost_usd,
    )


def _logsumexp(values: Sequence[float]) -> float:
    peak = max(values)
    return peak + math.log(sum(math.exp(v - peak) for v in values))
