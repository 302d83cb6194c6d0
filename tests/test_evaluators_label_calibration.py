"""Calibrated label scores: batch and content-free calibration against a NumPy reference, and in use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evaluators import EvalConfig, Example, TaskSpec, batch_calibrate, content_free_calibrate, evaluate_prompt


def _reference(probs: np.ndarray, prior: np.ndarray) -> np.ndarray:
    # Written in log space on purpose (a different route to the same answer): softmax(log p - log prior).
    logits = np.log(probs) - np.log(prior)
    logits -= logits.max(axis=1, keepdims=True)
    expd = np.exp(logits)
    return expd / expd.sum(axis=1, keepdims=True)


def _distributions(n_max: int = 30):
    return st.integers(1, n_max).flatmap(
        lambda n: st.integers(2, 5).flatmap(
            lambda k: arrays(float, (n, k), elements=st.floats(0.01, 1.0)).map(
                lambda a: a / a.sum(axis=1, keepdims=True)
            )
        )
    )


@settings(max_examples=150, deadline=None)
@given(_distributions())
def test_batch_calibration_matches_the_numpy_reference(probs):
    got = batch_calibrate(probs)
    assert got == pytest.approx(_reference(probs, probs.mean(axis=0)), abs=1e-9)
    assert got.sum(axis=1) == pytest.approx(np.ones(len(probs)))


@settings(max_examples=150, deadline=None)
@given(_distributions(), st.integers(1, 3), st.data())
def test_content_free_calibration_matches_the_numpy_reference(probs, m, data):
    k = probs.shape[1]
    free = data.draw(arrays(float, (m, k), elements=st.floats(0.01, 1.0)))
    free = free / free.sum(axis=1, keepdims=True)
    got = content_free_calibrate(probs, free)
    assert got == pytest.approx(_reference(probs, free.mean(axis=0)), abs=1e-9)


def test_batch_calibration_undoes_a_constant_label_bias():
    # Every example leans to label 0 by the same factor; the ranking carries the signal. The threshold
    # after calibration, mean(p1) / mean(p0), lies between the two odds (a mediant), so it splits them.
    signal = np.array([0.1, 0.1, 0.1, 0.8, 0.8])
    biased = np.stack([9 * (1 - signal), signal], axis=1)
    biased /= biased.sum(axis=1, keepdims=True)
    assert (biased.argmax(axis=1) == 0).all()  # raw arg-max: always label 0
    assert list(batch_calibrate(biased).argmax(axis=1)) == [0, 0, 0, 1, 1]


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        batch_calibrate([0.5, 0.5])
    with pytest.raises(ValueError, match="prior"):
        content_free_calibrate([[0.5, 0.5]], [[0.2, 0.3, 0.5]])


class _BiasedScorer:
    """A label scorer that prefers 'negative' unless the input holds 'good'; 'N/A' gets the bias alone."""

    def __init__(self):
        self.inputs: list[str] = []

    async def score_labels(self, messages, labels):
        text = messages[-1]["content"]
        self.inputs.append(text)
        p = {"good": 0.45, "meh": 0.05}.get(text.split()[0] if text else "", 0.1)
        return type("Scores", (), {"probs": {"negative": 1 - p, "positive": p}})()


@pytest.mark.parametrize("method", ["none", "batch", "content_free"])
async def test_calibration_is_applied_before_arg_max_and_metrics(method):
    task = TaskSpec("t", labels=("negative", "positive"), content_free_inputs=("N/A", ""))
    examples = [Example("good film", "positive"), Example("meh film", "negative")] * 3
    scorer = _BiasedScorer()
    report = await evaluate_prompt("p", examples, task, scorer, config=EvalConfig(calibration=method))
    predictions = [r.prediction for r in report.examples]
    if method == "none":
        assert set(predictions) == {"negative"} and report.scores["balanced_accuracy"] == 0.5
    else:
        assert predictions == ["positive", "negative"] * 3
        assert report.scores["balanced_accuracy"] == 1.0 and report.scores["accuracy"] == 1.0
    assert report.label_calibration == method
    content_free_calls = [t for t in scorer.inputs if t in ("N/A", "")]
    assert len(content_free_calls) == (2 if method == "content_free" else 0)
    probs = np.array([r.probs for r in report.examples])
    assert probs.sum(axis=1) == pytest.approx(np.ones(6))
