"""A soft stage with a task it cannot measure (no label set) is refused when the campaign loads, before any
call, instead of failing after the discrete search."""

from __future__ import annotations

import json

import pytest

from orchestrator.errors import ConfigError
from orchestrator.loading import parse_campaign


def _campaign_text(tmp_path, free_form_target: bool, soft: bool) -> str:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        "".join(json.dumps({"input": f"question {i}", "label": f"answer {i}"}) + "\n" for i in range(40))
    )
    labelled = tmp_path / "yn.jsonl"
    labelled.write_text(
        "".join(
            json.dumps({"input": f"claim {i}", "label": "yes" if i % 2 else "no"}) + "\n" for i in range(40)
        )
    )
    target = (
        {"name": "qa", "path": str(path), "free_form": True}
        if free_form_target
        else {"name": "yn_target", "path": str(labelled)}
    )
    config = {
        "models": {"scorer": {"model": "local/smollm2-135m-instruct"}},
        "tasks": {
            "source": [{"name": "yn", "path": str(labelled)}],
            "target": target,
            "dev_size": 8,
            "test_size": 8,
        },
        "objective": {"weights": {"exact_match": 1.0} if free_form_target else {"accuracy": 1.0}},
        "soft": {"enabled": soft},
    }
    return json.dumps(config)


def test_a_soft_stage_with_a_free_form_target_is_refused_at_load(tmp_path):
    with pytest.raises(ConfigError, match=r"soft\.enabled: .*task 'qa' \(tasks\.target\) has no label set"):
        parse_campaign(_campaign_text(tmp_path, True, True), source="c.yaml", env={})
    # the same campaign without the soft stage loads, and so does a labelled target with it
    parse_campaign(_campaign_text(tmp_path, True, False), source="c.yaml", env={})
    parse_campaign(_campaign_text(tmp_path, False, True), source="c.yaml", env={})
