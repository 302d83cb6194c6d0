"""Whether a contender beats a reference on the same examples, worded only as far as the data allow.

``compare_predictions`` runs the paired bootstrap (same resampled examples for both) on a label
metric; ``Verdict`` words the result: "improved" or "worse" only when the interval of the
difference excludes zero, otherwise "no significant difference (+0.03 [-0.08, +0.13])".

The percentile bootstrap is over-confident when the two differ on few examples: on 2 test examples
that the contender gets right and the reference wrong, every resample differs by +1 and the interval
is [+1.00, +1.00]. So a direction also needs the paired permutation test on the same metric
(``evaluators.permutation``: swap the two answers example by example; for accuracy it is McNemar's
exact sign test) to agree at the same level; where the two answer differently on 5 examples or
fewer it never can (the smallest two-sided p over 5 swaps is 2/2^5 = 0.0625). A verdict it holds
back says so: "no significant difference (+1.00 [+1.00, +1.00]; only 2 examples differ (2 vs 0),
permutation test p = 0.50)".
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from evaluators.bootstrap import ConfidenceInterval, paired_bootstrap
from evaluators.label_rows import encode_labels, label_metric_rows
from evaluators.permutation import paired_permutation_p

__all__ = ["Verdict", "compare_predictions", "verdict"]

VerdictKind = Literal["improved", "worse", "no significant difference", "undefined"]


@dataclass(frozen=True)
class Verdict:
    """The difference ``contender - reference`` on one metric, and what may be said about it.

    Attributes:
        kind: ``"improved"`` / ``"worse"`` (interval excludes zero), ``"no significant difference"``,
            or ``"undefined"`` (no defined resample).
        difference: estimate and interval of the difference.
        metric: the metric compared.
        reference: what the contender was compared with, e.g. ``"baseline prompt"``.
        held_back: why an interval that excludes zero is not worded as a direction (the permutation
            test disagrees), or None.
    """

    kind: VerdictKind
    difference: ConfidenceInterval
    metric: str
    reference: str
    held_back: str | None = None

    @property
    def text(self) -> str:
        """``"improved (+0.12 [+0.03, +0.21])"``, ``"no significant difference (+0.03 [-0.08, +0.13])"``."""
        d = self.difference
        if self.kind == "undefined":
            return f"no comparison possible ({self.metric})"
        why = f"; {self.held_back}" if self.held_back else ""
        return f"{self.kind} ({_signed(d.estimate)} [{_signed(d.low)}, {_signed(d.high)}]{why})"


def _signed(value: float) -> str:
    # A bound that rounds to +0.00 would hide which side of zero it is on: show one more digit.
    return f"{value:+.2f}" if value == 0 or abs(value) >= 0.005 else f"{value:+.2g}"


def verdict(difference: ConfidenceInterval, *, metric: str, reference: str) -> Verdict:
    """Word a paired difference: a direction only when its interval excludes zero.

    Args:
        difference: the bootstrap interval of ``contender - reference`` (higher-is-better metric).
        metric: the metric's name, for the record.
        reference: the reference's name, for the record.

    Returns:
        The verdict.
    """
    if np.isnan(difference.low) or np.isnan(difference.high):
        kind: VerdictKind = "undefined"
    elif difference.low > 0:
        kind = "improved"
    elif difference.high < 0:
        kind = "worse"
    else:
        kind = "no significant difference"
    return Verdict(kind, difference, metric, reference)


def _permutation_holds_back(
    kind: VerdictKind, estimate: float, p: float, differ: int, wins: int, losses: int, confidence: float
) -> str | None:
    """Why a direction the interval shows is not borne out by the permutation test, or None.

    ``differ`` counts the examples the two answer differently (the ones a swap can change);
    ``wins`` and ``losses`` those only the contender, or only the reference, gets right. They are
    for the reader; the test itself is on the difference of the compared metric.
    """
    if kind not in ("improved", "worse"):
        return None
    if (estimate > 0) == (kind == "improved") and p < 1 - confidence:
        return None
    few = "only " if differ <= 5 else ""
    return f"{few}{differ} examples differ ({wins} vs {losses}), permutation test p = {p:.2f}"


def compare_predictions(
    contender: Sequence[Hashable | None],
    reference: Sequence[Hashable | None],
    targets: Sequence[Hashable],
    labels: Sequence[Hashable],
    *,
    metric: str = "balanced_accuracy",
    reference_name: str = "reference",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Verdict:
    """Paired bootstrap of ``metric(contender) - metric(reference)`` on the same examples.

    Args:
        contender: the contender's answers, one per example (``None`` = unparsable, always wrong).
        reference: the reference's answers on the same examples, same order.
        targets: the gold labels.
        labels: the task's label set.
        metric: ``accuracy``, ``balanced_accuracy`` or ``macro_f1`` (higher is better).
        reference_name: how the reference is named in the verdict.
        n_resamples: bootstrap resamples.
        confidence: nominal coverage.
        seed: RNG seed.

    Returns:
        The worded verdict.

    Raises:
        ValueError: lengths differ, no examples, a gold label outside ``labels``, or an unknown metric.
    """
    if not (len(contender) == len(reference) == len(targets)) or not targets:
        raise ValueError(
            f"need the same non-zero number of answers: {len(contender)}, {len(reference)}, {len(targets)}"
        )
    k = len(labels)
    gold = encode_labels(targets, labels)
    if np.any(gold == k):
        outside = sorted({str(t) for t in targets if t not in set(labels)})
        raise ValueError(f"gold labels outside the label set {list(labels)}: {outside[:5]}")
    a, b = encode_labels(contender, labels), encode_labels(reference, labels)

    def metric_of(predicted: np.ndarray):
        return lambda idx: float(label_metric_rows(gold[idx], predicted[idx], k, metric)[0])

    paired = paired_bootstrap(
        metric_of(a), metric_of(b), len(targets), n_resamples=n_resamples, confidence=confidence, seed=seed
    )
    worded = verdict(paired.difference, metric=metric, reference=reference_name)
    a_right, b_right = a == gold, b == gold
    wins, losses = int(np.sum(a_right & ~b_right)), int(np.sum(~a_right & b_right))
    directed = worded.kind in ("improved", "worse")
    p = paired_permutation_p(gold, a, b, k, metric, seed=seed) if directed else 1.0
    differ = int(np.sum(a != b))
    held_back = _permutation_holds_back(
        worded.kind, paired.difference.estimate, p, differ, wins, losses, confidence
    )
    if held_back is None:
        return worded
    return Verdict("no significant difference", paired.difference, metric, reference_name, held_back)
