"""EarlyStopping: best score and step, patience, NaN handling (pure object, plus properties)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soft_prompts.early_stopping import EarlyStopping


def test_tracks_the_best_step_and_stops_after_patience():
    stopping = EarlyStopping(patience=2)
    assert stopping.update(0, 0.5) and stopping.best_step == 0
    assert stopping.update(10, 0.6) and stopping.best_step == 10
    assert not stopping.update(20, 0.6), "a tie is not an improvement"
    assert not stopping.should_stop
    assert not stopping.update(30, 0.4)
    assert stopping.should_stop and stopping.best_score == 0.6 and stopping.best_step == 10


def test_improvement_resets_the_count_and_min_delta_applies():
    stopping = EarlyStopping(patience=2, min_delta=0.05)
    stopping.update(0, 0.5)
    assert not stopping.update(1, 0.52), "within min_delta"
    assert stopping.update(2, 0.6)
    assert stopping.bad_evaluations == 0 and not stopping.should_stop


def test_nan_never_improves_and_no_patience_never_stops():
    stopping = EarlyStopping(patience=None)
    assert not stopping.update(0, math.nan)
    assert stopping.best_score is None
    for step in range(1, 50):
        stopping.update(step, 0.0)
    assert not stopping.should_stop and stopping.best_step == 1


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"min_delta": -0.1}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="EarlyStopping"):
        EarlyStopping(**kwargs)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=30))
def test_best_is_the_first_maximum(scores):
    stopping = EarlyStopping()
    for step, score in enumerate(scores):
        stopping.update(step, score)
    assert stopping.best_score == max(scores)
    assert stopping.best_step == scores.index(max(scores))
