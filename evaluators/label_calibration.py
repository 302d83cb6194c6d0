"""Calibrated label scores: correct a model's bias towards some labels before arg-max and metrics.

A small model scoring label likelihoods often prefers one label whatever the input (the "majority
label" and "surface form" biases), so arg-max answers that label for nearly every example even when
the probabilities rank the examples well. Two corrections, both a per-label rescaling followed by a
renormalisation:

* ``batch`` (batch calibration, Zhou et al., ICLR 2024): divide each label's probability by its
  mean over the evaluated examples. Needs no extra model call; uses the batch itself as the
  estimate of the prior.
* ``content_free`` (contextual calibration, Zhao et al., ICML 2021): score content-free inputs
  (``"N/A"``, ``""``, ``"[MASK]"``) once per prompt, average their label distributions and divide
  each example's probabilities by that average. Costs a few extra calls per prompt.

Both are pure functions of probability arrays of shape ``(n_examples, n_labels)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = [
    "CALIBRATION_METHODS",
    "CONTENT_FREE_INPUTS",
    "CalibrationMethod",
    "batch_calibrate",
    "content_free_calibrate",
    "rescale_labels",
]

CalibrationMethod = Literal["none", "batch", "content_free"]
#: The calibration methods, by name.
CALIBRATION_METHODS: tuple[str, ...] = ("none", "batch", "content_free")
#: Content-free inputs of Zhao et al. (2021), scored once per prompt for ``content_free``.
CONTENT_FREE_INPUTS: tuple[str, ...] = ("N/A", "", "[MASK]")

_FLOOR = 1e-12  # keeps a label the prior gives ~0 probability from dividing by zero


def _as_probs(probs: np.ndarray | list, name: str) -> np.ndarray:
    array = np.asarray(probs, dtype=float)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 2:
        raise ValueError(f"{name} must have shape (n >= 1, k >= 2), got {array.shape}")
    if np.any(array < 0) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite and >= 0")
    return array


def rescale_labels(probs: np.ndarray | list, prior: np.ndarray | list) -> np.ndarray:
    """Divide each label's probability by ``prior`` and renormalise each row.

    Args:
        probs: ``(n, k)`` label probabilities.
        prior: ``(k,)`` the estimated label bias (positive).

    Returns:
        ``(n, k)`` calibrated probabilities; each row sums to 1.

    Raises:
        ValueError: shapes do not fit, or negative / non-finite values.
    """
    array = _as_probs(probs, "probs")
    bias = np.asarray(prior, dtype=float)
    if bias.shape != (array.shape[1],) or np.any(bias < 0) or not np.all(np.isfinite(bias)):
        raise ValueError(f"prior must be ({array.shape[1]},) finite and >= 0, got {bias.shape}")
    scaled = array / np.maximum(bias, _FLOOR)
    totals = scaled.sum(axis=1, keepdims=True)
    # A row that is all zero stays uniform instead of becoming nan.
    uniform = np.full_like(scaled, 1.0 / array.shape[1])
    return np.divide(scaled, totals, out=uniform, where=totals > 0)


def batch_calibrate(probs: np.ndarray | list) -> np.ndarray:
    """Batch calibration: each label's probability divided by its mean over the examples, renormalised.

    Args:
        probs: ``(n, k)`` label probabilities of the evaluated examples.

    Returns:
        ``(n, k)`` calibrated probabilities (rows sum to 1). With one example every label ends equal
        to its own mean, so the result is uniform: there is no batch to learn a prior from.

    Raises:
        ValueError: see ``rescale_labels``.
    """
    array = _as_probs(probs, "probs")
    return rescale_labels(array, array.mean(axis=0))


def content_free_calibrate(probs: np.ndarray | list, content_free_probs: np.ndarray | list) -> np.ndarray:
    """Contextual calibration: probabilities divided by the mean distribution of content-free inputs.

    Args:
        probs: ``(n, k)`` label probabilities of the evaluated examples.
        content_free_probs: ``(m, k)`` label probabilities of the same prompt on ``m`` content-free
            inputs (``CONTENT_FREE_INPUTS``).

    Returns:
        ``(n, k)`` calibrated probabilities (rows sum to 1).

    Raises:
        ValueError: see ``rescale_labels``.
    """
    reference = _as_probs(content_free_probs, "content_free_probs")
    return rescale_labels(probs, reference.mean(axis=0))
