"""The final held-out comparison: one row per distinct prompt, trivial baselines, flags and verdicts."""

from __future__ import annotations

import pytest

from orchestrator.comparison import columns, final_comparison, headline_metric, row_cells

LABELS = ["entailment", "non-entailment"]
TARGETS = ["entailment"] * 20 + ["non-entailment"] * 40


def _entry(prompt, predictions, objective=0.5):
    task = {
        "scores": {"accuracy": sum(p == t for p, t in zip(predictions, TARGETS, strict=True)) / 60},
        "intervals": {"ece": [0.1, 0.3]},
        "predictions": predictions,
        "targets": TARGETS,
        "labels": LABELS,
    }
    return {"prompt": prompt, "objective": objective, "scores": dict(task["scores"]), "per_task": {"t": task}}


def _final(baseline, stage1, winner, same_winner=False):
    return {
        "test": {
            "baseline": _entry("Answer the question.", baseline),
            "stage1_best": _entry("Decide.", stage1),
            "winner": _entry("Decide." if same_winner else "Think, then decide.", winner),
        },
        "metric": "balanced_accuracy",
        "seed": 0,
    }


CONSTANT = ["non-entailment"] * 60
GOOD = list(TARGETS[:55]) + ["entailment"] * 5  # right on 55 of 60
NOISY = [
    t if i % 3 else ("entailment" if t != "entailment" else "non-entailment") for i, t in enumerate(TARGETS)
]


def test_the_same_prompt_is_one_row_and_trivial_rows_come_last():
    comparison = final_comparison(_final(CONSTANT, GOOD, GOOD, same_winner=True), None)
    names = [row["name"] for row in comparison["rows"]]
    assert names == [
        "baseline prompt",
        "best stage-1 prompt = best stage-2 prompt",
        "majority: always 'non-entailment' (40/60)",
        "uniform random: a label at random (1/2 each)",
    ]
    assert len(names) == len(set(names))
    assert comparison["n"] == 60 and comparison["metric"] == "balanced_accuracy"


def test_trivial_rows_hold_the_split_rates():
    rows = {
        r["kind"] + r["name"][:3]: r for r in final_comparison(_final(CONSTANT, GOOD, GOOD), None)["rows"]
    }
    majority, uniform = rows["trivialmaj"], rows["trivialuni"]
    assert majority["scores"]["accuracy"] == pytest.approx(40 / 60)
    assert majority["scores"]["balanced_accuracy"] == pytest.approx(0.5)
    assert uniform["scores"]["accuracy"] == 0.5
    assert all(len(r["intervals"]["accuracy"]) == 2 for r in (majority, uniform))


def test_a_constant_baseline_is_flagged_and_the_verdicts_follow_the_intervals():
    rows = final_comparison(_final(CONSTANT, NOISY, GOOD), None)["rows"]
    baseline, stage1, winner = rows[:3]
    assert baseline["degenerate"] == "answers 'non-entailment' for 60/60"
    assert baseline["scores"]["balanced_accuracy"] == 0.5 and baseline["verdict"] is None
    assert stage1["degenerate"] is None
    assert winner["verdict"]["kind"] == "improved" and winner["verdict"]["reference"] == "baseline prompt"
    assert winner["verdict"]["text"].startswith("improved (+0.")
    cells = row_cells(winner, "balanced_accuracy")
    assert len(cells) == len(columns("balanced_accuracy"))
    assert "improved" in cells[-2] and cells[2].startswith(f"{winner['scores']['balanced_accuracy']:.3f} [")


def test_a_contender_equal_to_the_baseline_but_two_answers_gets_no_claim():
    near = list(CONSTANT)
    near[0] = "entailment"
    rows = final_comparison(_final(CONSTANT, near, near), None)["rows"]
    assert rows[1]["verdict"]["kind"] == "no significant difference"
    assert rows[1]["verdict"]["text"].startswith("no significant difference (+0.0")
    assert rows[1]["degenerate"] == "answers 'non-entailment' for 59/60"


def test_soft_rows_are_compared_with_the_best_discrete_prompt():
    soft = {
        "comparison": [
            {
                "name": "baseline prompt",
                "kind": "discrete",
                "accuracy": 0.3,
            },  # the soft stage's copy: ignored
            {
                "name": "soft: text init",
                "kind": "soft",
                "accuracy": 40 / 60,
                "ci": [0.5, 0.8],
                "ece": 0.1,
                "predictions": CONSTANT,
            },
        ]
    }
    rows = final_comparison(_final(CONSTANT, GOOD, GOOD, same_winner=True), soft)["rows"]
    assert [r["kind"] for r in rows] == ["discrete", "discrete", "soft", "trivial", "trivial"]
    soft_row = rows[2]
    assert soft_row["degenerate"] == "answers 'non-entailment' for 60/60"
    assert soft_row["verdict"]["reference"] == "best discrete prompt"
    assert soft_row["verdict"]["kind"] == "worse"


def test_headline_metric_follows_the_heaviest_label_weight():
    assert headline_metric({"balanced_accuracy": 1.0, "ece": 0.25}) == "balanced_accuracy"
    assert headline_metric({"accuracy": 1.0, "macro_f1": 0.5}) == "accuracy"
    assert headline_metric({"ece": 1.0}) == "balanced_accuracy"


def test_no_test_step_yet_gives_no_rows():
    assert final_comparison(None, None)["rows"] == []
