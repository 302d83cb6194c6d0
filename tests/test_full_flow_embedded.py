"""The whole product on the real embedded model at small size: discrete search (SmolLM2 as reference and
scorer on built-in NLI tasks), the soft-prompt stage on the same model, and the HTML report."""

from __future__ import annotations

import pytest
import yaml

from orchestrator.loading import parse_campaign
from orchestrator.runner import optimize_async


@pytest.mark.slow
async def test_full_flow_on_the_embedded_model(tmp_path):
    config = {
        "name": "embedded-small",
        "models": {
            "reference": {"model": "local/smollm2-135m-instruct", "temperature": 0.9, "max_tokens": 40},
            "scorer": {"model": "local/smollm2-135m-instruct", "max_tokens": 8},
        },
        "tasks": {
            "source": ["presuppositions_as_nli", "analytic_entailment"],
            "target": "epistemic_reasoning",
            "dev_size": 8,
            "test_size": 16,
        },
        "search": {
            "stage1_iterations": 1,
            "stage2_iterations": 1,
            "candidates_per_step": 2,
            "minibatch_size": 6,
            "exemplars": 1,
            "finalists": 2,
        },
        "soft": {
            "enabled": True,
            "n_virtual_tokens": 4,
            "steps": 3,
            "batch_size": 4,
            "train_examples": 8,
            "dev_examples": 4,
            "eval_every": 3,  # dev-scored at steps 0 and 3: the best-step choice and vector handoff run
        },
        "run": {"store": str(tmp_path / "store.sqlite"), "cache": str(tmp_path / "cache.sqlite"), "seed": 0},
    }
    campaign = parse_campaign(yaml.safe_dump(config), source="embedded.yaml", env={})
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    test = result.final["test"]
    print({name: (row["prompt"][:60], row["scores"]["accuracy"]) for name, row in test.items()})
    assert all(0 <= row["scores"]["accuracy"] <= 1 for row in test.values())
    comparison = {row["name"]: row for row in result.soft["comparison"]}
    print({name: round(row["accuracy"], 3) for name, row in comparison.items()})
    assert {"baseline prompt", "soft: text init", "soft: vector init", "soft: gated fusion"} <= set(
        comparison
    )
    curves = result.soft["curves"]
    assert {"target:text", "target:vectors", "fusion"} <= set(curves)
    for name, curve in curves.items():  # every training was dev-scored, not just run
        assert [p["step"] for p in curve if p["dev"] is not None], name
    from orchestrator.comparison import final_comparison

    rows = final_comparison(result.final, result.soft)["rows"]
    names = [row["name"] for row in rows]
    assert len(names) == len(set(names)), names  # each distinct prompt once
    assert [row["kind"] for row in rows].count("soft") == 3
    assert [row["kind"] for row in rows][-2:] == ["trivial", "trivial"]
    assert all(row["verdict"] is not None for row in rows if row["kind"] == "soft")
    from orchestrator.report import write_report

    html = write_report(campaign.run.store, result.run_id).read_text()
    assert "gated fusion" in html and result.run_id in html
