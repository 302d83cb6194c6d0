"""Campaign config: defaults work, and every bad input names the file, the line and the path."""

from __future__ import annotations

import pytest

from orchestrator.config import Campaign
from orchestrator.errors import ConfigError
from orchestrator.loading import load_campaign, parse_campaign


def _error(text: str, env: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_campaign(text, source="campaign.yaml", env=env or {})
    message = str(info.value)
    assert "\n" not in message
    return message


def test_empty_file_gives_working_defaults():
    campaign = parse_campaign("", source="c.yaml", env={})
    assert campaign.models.scorer.model.startswith("local/")
    assert campaign.models.scorer.temperature == 0.0
    assert campaign.tasks.source and campaign.tasks.target.name


def test_misspelt_key_suggests_the_right_one():
    text = "models:\n  scorer:\n    model: openai/gpt-4o-mini\n    temprature: 0.5\n"
    assert _error(text) == (
        "campaign.yaml:4: models.scorer.temprature: unknown key (did you mean 'temperature'?)"
    )


def test_wrong_type_names_path_and_value():
    message = _error("search:\n  stage1_iterations: many\n")
    assert message.startswith("campaign.yaml:2: search.stage1_iterations: ")
    assert "'many'" in message


def test_missing_environment_variable_is_a_load_time_error():
    text = "models:\n  judge:\n    model: openai/gpt-4o\n    api_key_env: PF_TEST_KEY\n"
    assert (
        _error(text)
        == "campaign.yaml:4: models.judge.api_key_env: environment variable PF_TEST_KEY is not set"
    )
    campaign = parse_campaign(text, source="c.yaml", env={"PF_TEST_KEY": "sk-planted"})
    assert campaign.models.judge.api_key_env == "PF_TEST_KEY"


def test_literal_api_key_is_refused_and_never_echoed():
    message = _error("models:\n  scorer:\n    api_key: sk-secret-123\n")
    assert "api_key_env" in message and "sk-secret-123" not in message


def test_api_key_env_must_be_a_name_not_a_key():
    message = _error("models:\n  scorer:\n    api_key_env: sk-abc.def/123\n")
    assert "models.scorer.api_key_env" in message and "sk-abc" not in message.split(":", 3)[-1].split("(")[0]


def test_errors_inside_lists_carry_the_index():
    text = "tasks:\n  source:\n    - nli_a\n    - name: other\n      lables: [x]\n"
    assert _error(text) == "campaign.yaml:5: tasks.source[1].lables: unknown key (did you mean 'labels'?)"


def test_model_string_needs_a_provider():
    assert "models.scorer.model" in _error("models:\n  scorer:\n    model: gpt4\n")


def test_invalid_yaml_names_the_line():
    assert _error("search:\n  stage1_iterations: [1,\n").startswith("campaign.yaml:3: invalid YAML")


def test_judge_dimensions_need_a_judge():
    assert "models.judge" in _error("objective:\n  judge_dimensions: [clarity]\n")


def test_resolved_config_round_trips_and_holds_no_secrets(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("models:\n  scorer:\n    model: openai/gpt-4o-mini\n    api_key_env: PF_KEY\n")
    campaign = load_campaign(path, env={"PF_KEY": "sk-planted-secret"})
    resolved = campaign.resolved()
    assert "sk-planted-secret" not in repr(resolved)
    assert Campaign.model_validate(resolved) == campaign


def test_task_paths_are_pinned_to_the_campaign_folder(tmp_path):
    path = tmp_path / "sub" / "c.yaml"
    path.parent.mkdir()
    path.write_text("tasks:\n  target:\n    name: mine\n    path: data/mine.jsonl\n")
    (tmp_path / "sub" / "data").mkdir()
    rows = [f'{{"input": "claim {i}", "label": "{"yes" if i % 2 else "no"}"}}' for i in range(12)]
    (tmp_path / "sub" / "data" / "mine.jsonl").write_text("\n".join(rows) + "\n")
    campaign = load_campaign(path, env={})
    assert campaign.tasks.target.path == str(tmp_path / "sub" / "data" / "mine.jsonl")


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml: cannot read"):
        load_campaign(tmp_path / "missing.yaml")


def test_scoring_calibration_is_checked_and_costs_content_free_calls():
    from orchestrator.estimate import estimate_campaign

    with pytest.raises(ConfigError, match=r"scoring\.calibration"):
        parse_campaign("scoring: {calibration: platt}", env={})
    assert parse_campaign("", env={}).scoring.calibration == "batch"
    plain = estimate_campaign(parse_campaign("scoring: {calibration: none}", env={})).calls["scorer"]
    free = estimate_campaign(parse_campaign("scoring: {calibration: content_free}", env={})).calls["scorer"]
    assert free > plain and (free - plain) % 3 == 0


def test_dry_run_reads_each_task_file_once(tmp_path, task_reads, capsys):
    import json

    from orchestrator.cli.app import main

    rows = "".join(
        json.dumps({"input": f"claim {i}", "label": "yes" if i % 2 else "no"}) + "\n" for i in range(12)
    )
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.jsonl").write_text(rows)
    (tmp_path / "c.yaml").write_text(
        "tasks:\n  source: [{name: a, path: a.jsonl}, {name: b, path: b.jsonl}]\n"
        "  target: {name: c, path: c.jsonl}\n  dev_size: 4\n  test_size: 4\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(["run", str(tmp_path / "c.yaml"), "--dry-run"])
    assert exited.value.code in (0, None), capsys.readouterr().err
    assert "pre-flight estimate" in capsys.readouterr().out
    assert sorted(task_reads) == ["a", "b", "c"]
