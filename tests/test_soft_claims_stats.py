"""The seeds' claims' paired statistics of the soft-prompt benchmark scripts (no model)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import soft_fusion_vs_single as fusion  # noqa: E402
import soft_repro as repro  # noqa: E402


def _seed(**correct):
    return {name: {"test": float(np.mean(c)), "test_correct": list(c)} for name, c in correct.items()}


def test_repro_claims_average_each_example_over_seeds_then_pair():
    n = 40
    ones, zeros = [1] * n, [0] * n
    half = [1, 0] * (n // 2)
    per_seed = {
        0: {**_seed(vectors=ones, random=zeros, vocab=half, text=half, fusion=half, discrete=half)},
        1: {**_seed(vectors=ones, random=half, vocab=half, text=half, fusion=half, discrete=half)},
    }
    rows = {(r["a"], r["b"]): r for r in repro.paired_claims(per_seed, resamples=200)}
    vs_random = rows[("vectors", "random")]
    assert vs_random["seeds"] == [0, 1]
    assert vs_random["a_mean"] == pytest.approx(1.0)
    assert vs_random["b_mean"] == pytest.approx(0.25)  # 0 at seed 0, 0.5 at seed 1
    assert vs_random["difference"] == pytest.approx(0.75)
    assert vs_random["verdict"] == "a better"
    assert rows[("fusion", "text")]["verdict"] == "no difference shown"
    assert rows[("fusion", "text")]["difference"] == 0.0


def test_repro_claims_leave_out_a_condition_not_run():
    n = 10
    per_seed = {0: {**_seed(random=[1] * n, vocab=[1] * n, text=[1] * n, fusion=[1] * n, discrete=[0] * n)}}
    per_seed[0]["vectors"] = {"not_run": "no source prompt trained past its start (snarks)"}
    rows = {(r["a"], r["b"]): r for r in repro.paired_claims(per_seed, resamples=50)}
    assert rows[("vectors", "random")]["verdict"] == "not run"
    assert rows[("text", "discrete")]["verdict"] == "a better"
    assert "vectors" not in repro.summarise(
        {
            0: {
                **per_seed[0],
                **{
                    k: {**v, "dev_curve": [[0, 0.5]], "best_dev": 0.5, "seconds": 1.0}
                    for k, v in per_seed[0].items()
                    if k != "vectors"
                },
            }
        }
    )


def test_fusion_claims_pair_contenders_per_task_on_the_seeds_both_ran():
    n = 30
    task = {"test_correct": [1] * n}
    worse = {"test_correct": [0] * (n // 2) + [1] * (n // 2)}
    run = {
        "single": {"t": worse},
        "single_2x": {"t": worse},
        "discrete": {"t": worse},
        "shared": {"per_task": {"t": worse}},
        "fusion": {"default": {"per_task": {"t": task}}, "temp_4": {"per_task": {"t": task}}},
    }
    rows = fusion.paired_claims({0: run, 1: run}, ["t"], ["default", "temp_4"], resamples=200)
    got = {(r["a"], r["b"]): r for r in rows}
    assert got[("fusion:default", "single_2x")]["difference"] == pytest.approx(0.5)
    assert got[("fusion:default", "single_2x")]["verdict"] == "a better"
    assert got[("fusion:temp_4", "fusion:default")]["verdict"] == "no difference shown"
    assert ("fusion_subset", "fusion:default") not in got  # no subset fusion in these runs
    assert all(r["seeds"] == 2 for r in rows)
