"""Cluster resampling: rows that repeat one example are resampled together, never as new examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.bootstrap import bootstrap_metric_ci, paired_bootstrap
from evaluators.label_rows import label_metric_rows


def _balanced_accuracy(gold, predicted):
    return lambda idx: float(label_metric_rows(gold[idx], predicted[idx], 2, "balanced_accuracy")[0])


@settings(max_examples=10, deadline=None)
@given(st.integers(8, 40), st.integers(2, 6), st.integers(0, 10_000))
def test_copies_resampled_as_clusters_give_exactly_the_interval_of_the_originals(n, copies, seed):
    # Each example scored ``copies`` times with the same answers (as the starting instruction is on
    # every search seed's split): as clusters, the interval is the originals' own; row by row it
    # would pretend to have n * copies examples.
    rng = np.random.default_rng(seed)
    gold = np.tile([0, 1], n)[:n]
    a = np.where(rng.random(n) < 0.8, gold, 1 - gold)
    b = np.where(rng.random(n) < 0.6, gold, 1 - gold)
    original = paired_bootstrap(_balanced_accuracy(gold, a), _balanced_accuracy(gold, b), n, seed=3)
    # Copies interleaved (row i is example i % n), so a cluster's rows are not contiguous.
    gold_c, a_c, b_c = (np.tile(x, copies) for x in (gold, a, b))
    clusters = [f"example {i % n}" for i in range(n * copies)]
    clustered = paired_bootstrap(
        _balanced_accuracy(gold_c, a_c),
        _balanced_accuracy(gold_c, b_c),
        n * copies,
        seed=3,
        clusters=clusters,
    )
    assert clustered == original
    single = bootstrap_metric_ci(_balanced_accuracy(gold, a), n, seed=5)
    single_clustered = bootstrap_metric_ci(
        _balanced_accuracy(gold_c, a_c), n * copies, seed=5, clusters=clusters
    )
    assert single_clustered == single


def test_row_resampling_of_copies_is_too_narrow_and_clusters_are_not():
    rng = np.random.default_rng(0)
    n, copies = 60, 5
    gold = np.tile([0, 1], n // 2)
    a = np.where(rng.random(n) < 0.8, gold, 1 - gold)
    b = np.where(rng.random(n) < 0.65, gold, 1 - gold)
    gold_c, a_c, b_c = (np.tile(x, copies) for x in (gold, a, b))
    metric_a, metric_b = _balanced_accuracy(gold_c, a_c), _balanced_accuracy(gold_c, b_c)
    rows = paired_bootstrap(metric_a, metric_b, n * copies, n_resamples=2000).difference
    clusters = paired_bootstrap(
        metric_a, metric_b, n * copies, n_resamples=2000, clusters=list(range(n)) * copies
    ).difference
    assert rows.estimate == clusters.estimate
    # About sqrt(5) narrower row by row.
    assert (clusters.high - clusters.low) > 1.8 * (rows.high - rows.low)


def test_without_clusters_the_draws_are_unchanged_and_a_wrong_length_is_refused():
    values = np.arange(20, dtype=float)
    metric = lambda idx: float(values[idx].mean())  # noqa: E731
    singletons = bootstrap_metric_ci(metric, 20, seed=1, clusters=list(range(20)))
    assert singletons == bootstrap_metric_ci(metric, 20, seed=1)
    with pytest.raises(ValueError, match="one cluster per row"):
        paired_bootstrap(metric, metric, 20, clusters=[0] * 19)
