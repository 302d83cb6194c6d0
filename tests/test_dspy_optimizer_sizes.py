"""MIPROv2's sizes on a small dev split (benchmarks/dspy_optimizers.py)."""

import pytest

from benchmarks.dspy_optimizers import DSPY_SETTINGS, mipro_sizes


def test_sizes_that_fit_are_kept_as_recorded():
    # heavier's 24 dev examples at 200 calls: valset data[15:30] holds 9 >= minibatch 8.
    assert mipro_sizes(15, 8, 24) == (15, 8)
    # a large dev split at every budget keeps DSPY_SETTINGS exactly
    for settings in DSPY_SETTINGS.values():
        if "mipro" in settings:
            n, _, _, minibatch = settings["mipro"]
            assert mipro_sizes(n, minibatch, 1000) == (n, minibatch)


def test_a_valset_smaller_than_the_minibatch_halves_the_dev_split():
    # heavier at 400 calls: data[20:40] of 24 holds 4 < minibatch 10, which MIPROv2 refuses.
    n, minibatch = mipro_sizes(20, 10, 24)
    assert (n, minibatch) == (12, 10)
    assert len(range(24)[n : 2 * n]) >= minibatch
    # very few examples: the minibatch is capped at the valset
    n, minibatch = mipro_sizes(20, 10, 7)
    assert (n, minibatch) == (3, 3) and len(range(7)[n : 2 * n]) >= minibatch


def test_too_few_examples_are_refused():
    with pytest.raises(ValueError, match="at least 2 dev examples"):
        mipro_sizes(10, 5, 1)
