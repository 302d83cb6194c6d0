"""What a resume may take from a corrected campaign file (``orchestrator.resume_changes``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.config import Campaign
from orchestrator.errors import ResumeRefused
from orchestrator.resume_changes import changed_settings, check_resume_changes

SAVED = Campaign().resolved()


def _with(path: str, value) -> dict:
    config = Campaign().resolved()
    *parents, leaf = path.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[leaf] = value
    return config


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("models.scorer.model", "openai/gpt-4o-mini"),
        ("models.scorer.concurrency", 3),
        ("models.reference.api_base", "http://127.0.0.1:8000/v1"),
        ("budget.max_usd", 2.5),
        ("run.cache", "elsewhere.sqlite"),
        ("name", "renamed"),
        ("tracking.mlflow_uri", "http://127.0.0.1:5000"),
    ],
)
def test_models_budgets_and_stores_may_change_after_scoring(path, value):
    assert check_resume_changes("r1", SAVED, _with(path, value), scored=True) == [path]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("run.seed", 7),
        ("tasks.dev_size", 10),
        ("search.minibatch_size", 4),
        ("objective.acceptance", "pareto"),
        ("scoring.mode", "generate"),
        ("soft.steps", 5),
    ],
)
def test_what_scores_depend_on_is_refused_after_scoring_and_allowed_before(path, value):
    new = _with(path, value)
    old = path.split(".")
    saved_value = SAVED
    for part in old:
        saved_value = saved_value[part]
    with pytest.raises(ResumeRefused) as refused:
        check_resume_changes("r1", SAVED, new, scored=True)
    assert str(refused.value) == (
        f"cannot resume run r1 with this campaign: {path} (run: {saved_value!r}, file: {value!r}) would "
        "invalidate what was already scored; restore it or start a new run (a resume may change only name, "
        "models, budget, run.store, run.cache, tracking)"
    )
    assert check_resume_changes("r1", SAVED, new, scored=False) == [path]


_configs = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.dictionaries(st.text("abc", min_size=1, max_size=3), children, max_size=4),
    max_leaves=12,
)


@given(_configs)
def test_a_config_never_differs_from_itself(config):
    assert changed_settings({"x": config}, {"x": config}) == []


@given(_configs, _configs)
def test_any_difference_is_reported(a, b):
    assert (changed_settings({"x": a}, {"x": b}) == []) == (a == b)
