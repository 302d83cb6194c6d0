"""Task metrics: accuracy, balanced accuracy, macro-F1 and normalised exact match.

Each metric is a pure function of predictions and references returning a float. A prediction of
``None`` means the output could not be parsed into an answer; it counts as wrong everywhere and
never forms a label of its own (so an unparsable output cannot earn F1 credit for a phantom class).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Hashable, Sequence

__all__ = ["accuracy", "balanced_accuracy", "exact_match", "macro_f1", "normalize_answer"]

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCT_TABLE = str.maketrans("", "", string.punctuation)


def _check_lengths(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if len(references) == 0:
        raise ValueError("cannot score an empty set of examples")


def accuracy(predictions: Sequence[Hashable | None], references: Sequence[Hashable]) -> float:
    """Share of predictions equal to their reference.

    Args:
        predictions: predicted labels; ``None`` for an unparsable output (always wrong).
        references: gold labels, same length.

    Returns:
        A float in [0, 1]; higher is better. Equals ``sklearn.metrics.accuracy_score``.

    Raises:
        ValueError: lengths differ or there are no examples.
    """
    _check_lengths(predictions, references)
    return sum(p is not None and p == r for p, r in zip(predictions, references, strict=True)) / len(
        references
    )


def balanced_accuracy(
    predictions: Sequence[Hashable | None],
    references: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Unweighted mean over labels of recall = TP / (TP + FN), over the labels present in ``references``.

    A constant answer scores exactly ``1 / k`` (k = labels present), whatever the class shares: the
    majority class earns no credit for being frequent, which is why it is the default objective for
    label tasks.

    Args:
        predictions: predicted labels; ``None`` (unparsable) is wrong for every label.
        references: gold labels, same length.
        labels: the label set; only labels with support in ``references`` are averaged (a label
            without gold examples has no recall). Default: the labels seen in ``references``.

    Returns:
        A float in [0, 1]; higher is better. Equals ``sklearn.metrics.balanced_accuracy_score``.

    Raises:
        ValueError: lengths differ or there are no examples.
    """
    _check_lengths(predictions, references)
    present = set(references) if labels is None else {label for label in labels if label in set(references)}
    if not present:
        raise ValueError("balanced_accuracy: no reference carries one of the given labels")
    total = 0.0
    for label in present:
        support = sum(r == label for r in references)
        hits = sum(p == label and r == label for p, r in zip(predictions, references, strict=True))
        total += hits / support
    return total / len(present)


def macro_f1(
    predictions: Sequence[Hashable | None],
    references: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Unweighted mean over labels of F1 = 2TP / (2TP + FP + FN).

    Args:
        predictions: predicted labels; ``None`` counts as a miss for the reference's label only.
        references: gold labels, same length.
        labels: the labels to average over; default is every label seen in references or predictions
            (scikit-learn's default). A label with no support and no predictions scores 0.

    Returns:
        A float in [0, 1]; higher is better. Equals ``sklearn.metrics.f1_score(average="macro")``
        with ``zero_division=0``.

    Raises:
        ValueError: lengths differ, there are no examples, or ``labels`` is empty.
    """
    _check_lengths(predictions, references)
    if labels is None:
        seen = set(references) | {p for p in predictions if p is not None}
        labels = sorted(seen, key=lambda x: (type(x).__name__, x))
    if len(labels) == 0:
        raise ValueError("macro_f1 needs at least one label")
    total = 0.0
    for label in labels:
        tp = sum(p == label and r == label for p, r in zip(predictions, references, strict=True))
        fp = sum(p == label and r != label for p, r in zip(predictions, references, strict=True))
        fn = sum(p != label and r == label for p, r in zip(predictions, references, strict=True))
        denominator = 2 * tp + fp + fn
        total += 2 * tp / denominator if denominator else 0.0
    return total / len(labels)


def normalize_answer(
    text: str,
    *,
    lowercase: bool = True,
    strip_punctuation: bool = True,
    strip_articles: bool = True,
) -> str:
    """Normalise an answer for exact match (SQuAD-style by default).

    Unicode is NFKC-normalised and whitespace collapsed always; the rest is configurable.

    Args:
        text: the answer text.
        lowercase: fold case.
        strip_punctuation: drop ASCII punctuation.
        strip_articles: drop the English articles a/an/the, in any case.

    Returns:
        The normalised string.
    """
    text = unicodedata.normalize("NFKC", text)
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = text.translate(_PUNCT_TABLE)
    if strip_articles:
        text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(
    predictions: Sequence[str | None],
    references: Sequence[str | Sequence[str]],
    *,
    lowercase: bool = True,
    strip_punctuation: bool = True,
    strip_articles: bool = True,
) -> float:
    """Share of predictions whose normalised text equals a normalised reference.

    Args:
        predictions: extracted answers; ``None`` for an unparsable output (always wrong).
        references: per example, one reference string or a sequence of acceptable ones.
        lowercase: see ``normalize_answer``.
        strip_punctuation: see ``normalize_answer``.
        strip_articles: see ``normalize_answer``.

    Returns:
        A float in [0, 1]; higher is better.

    Raises:
        ValueError: lengths differ or there are no examples.
    """
    _check_lengths(predictions, references)

    def norm(s: str) -> str:
        return normalize_answer(
            s, lowercase=lowercase, strip_punctuation=strip_punctuation, strip_articles=strip_articles
        )

    hits = 0
    for prediction, reference in zip(predictions, references, strict=True):
        if prediction is None:
            continue
        options = [reference] if isinstance(reference, str) else list(reference)
        hits += norm(prediction) in {norm(o) for o in options}
    return hits / len(references)
