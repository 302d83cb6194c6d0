"""What a run becomes in MLflow, without MLflow: params within MLflow's limits, metric names it accepts,
the final comparison with its intervals; the ``tracking`` section's checks."""

from __future__ import annotations

import pytest

from orchestrator.config import Campaign
from orchestrator.errors import ConfigError
from orchestrator.tracking import NO_TRACKING, open_tracking, tracking_uri, with_tracking_uri
from orchestrator.tracking.metrics import MAX_VALUE, final_metrics, flatten_params, metric_key, round_metrics


def test_params_are_flat_dotted_and_within_mlflow_limits():
    params = flatten_params({"search": {"n": 3, "prompts": ["a", "b"], "empty": {}}, "long": "x" * 7000})
    assert params["search.n"] == "3" and params["search.prompts"] == '["a", "b"]'
    assert params["search.empty"] == "{}"
    assert len(params["long"]) == MAX_VALUE and params["long"].endswith("[truncated]")


def test_resolved_config_params_name_env_vars_never_keys(monkeypatch):
    monkeypatch.setenv("SECRET_FOR_TEST", "sk-do-not-log")
    campaign = Campaign.model_validate(
        {"models": {"scorer": {"model": "openai/x", "api_key_env": "SECRET_FOR_TEST"}}}
    )
    params = flatten_params(campaign.resolved())
    assert params["models.scorer.api_key_env"] == "SECRET_FOR_TEST"
    assert not any("sk-do-not-log" in value for value in params.values())


def test_metric_keys_are_what_mlflow_accepts():
    assert metric_key("test", "soft: gated fusion", "accuracy_lo") == "test.soft_gated_fusion.accuracy_lo"


def test_round_metrics_skip_what_is_not_a_number():
    selected = {
        "stage": "source",
        "best_objective": 0.5,
        "best_scores": {"accuracy": 0.6, "ece": float("nan")},
    }
    assert round_metrics(selected, (10, 900, 0.25)) == {
        "round.source.objective": 0.5,
        "round.source.accuracy": 0.6,
        "round.calls": 10.0,
        "round.tokens": 900.0,
        "round.usd": 0.25,
    }


def test_final_metrics_hold_each_contender_with_intervals():
    task = {"labels": ["no", "yes"], "targets": ["yes", "no", "yes", "yes"], "n": 4}
    test = {
        "baseline": {"prompt": "a", "objective": 0.5, "per_task": {"t": {**task, "predictions": ["no"] * 4}}},
        "winner": {
            "prompt": "b",
            "objective": 0.9,
            "per_task": {"t": {**task, "predictions": task["targets"]}},
        },
    }
    metrics = final_metrics({"test": test, "winner": {"objective": 0.8}}, None)
    assert metrics["test.winner.accuracy"] == 1.0 and metrics["test.baseline.accuracy"] == 0.25
    assert metrics["test.baseline.accuracy_lo"] <= 0.25 <= metrics["test.baseline.accuracy_hi"]
    assert metrics["test.majority.accuracy"] == 0.75 and metrics["test.n"] == 4
    assert metrics["dev.winner.objective"] == 0.8 and metrics["test.winner.objective"] == 0.9


def test_tracking_section_is_checked():
    with pytest.raises(ValueError, match="MLFLOW_TRACKING_USERNAME"):
        Campaign.model_validate({"tracking": {"mlflow_uri": "http://me:pw@host:5000"}})
    with pytest.raises(ValueError, match="experimnt"):
        Campaign.model_validate({"tracking": {"experimnt": "x"}})
    with pytest.raises(ConfigError, match="^--mlflow: Value error, credentials in the URI"):
        with_tracking_uri(Campaign(), "http://me:pw@host")


def test_where_tracking_goes():
    campaign = Campaign()
    assert tracking_uri(campaign, {}) is None
    assert tracking_uri(campaign, {"MLFLOW_TRACKING_URI": "http://env"}) == "http://env"
    flagged = with_tracking_uri(campaign, "http://flag")
    assert tracking_uri(flagged, {"MLFLOW_TRACKING_URI": "http://env"}) == "http://flag"
    assert open_tracking(campaign, None, "run", {}) is NO_TRACKING
    assert NO_TRACKING.wrap(print) is print


def test_config_error_names_the_tracking_path(tmp_path):
    from orchestrator.loading import load_campaign

    path = tmp_path / "c.yaml"
    path.write_text("tracking:\n  mlflow_url: http://x\n")
    with pytest.raises(ConfigError, match="tracking.mlflow_url: unknown key"):
        load_campaign(path)
