"""The report's data: gathered from a real run (a campaign against the loopback simulated LLM) in a
real SQLite run store, checked against the store itself.

``run_sim_campaign`` and ``soft_results`` are shared with the other ``test_report_*`` modules.
"""

from __future__ import annotations

import asyncio
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orchestrator.errors import RunNotFound
from orchestrator.loading import parse_campaign
from orchestrator.report import ReportError, build_report, gather_report
from orchestrator.report.redact import REDACTED, redact_config, scrub_secrets
from orchestrator.runner import optimize_async
from orchestrator.store import RunStore
from tests import simulated_llm
from tests.conftest import PLANTED_API_KEY

KEY_ENV = "PF_REPORT_TEST_API_KEY"


@dataclass(frozen=True)
class SimRun:
    store: Path
    run_id: str


def run_sim_campaign(folder: Path, server, *, budget: dict | None = None, **search) -> SimRun:
    """Run a small two-stage campaign against ``server`` answering as the simulated LLM.

    The models read their API key from ``KEY_ENV`` (set to the planted test key for the run only),
    so the saved config names that variable and the server receives the key.
    """
    server.script.reset(simulated_llm.respond)
    paths = simulated_llm.write_tasks(folder / "tasks", n=60)
    model = {"model": "openai/sim", "api_base": server.openai_base, "api_key_env": KEY_ENV, "timeout": 10}
    config = {
        "name": "report-sim",
        "models": {"reference": {**model, "temperature": 1.0}, "scorer": {**model, "concurrency": 16}},
        "tasks": {
            "source": [{"name": n, "path": str(paths[n])} for n in ("claims_a", "claims_b")],
            "target": {"name": "claims_target", "path": str(paths["claims_target"])},
            "dev_size": 12,
            "test_size": 24,
        },
        "search": {
            "stage1_iterations": 2,
            "stage2_iterations": 2,
            "candidates_per_step": 4,
            "minibatch_size": 8,
            "baseline_prompts": ["You are an assistant."],
            **search,
        },
        "objective": {"weights": {"accuracy": 1.0, "ece": 0.2}},
        "budget": budget or {},
        "run": {"store": str(folder / "store.sqlite"), "cache": str(folder / "cache.sqlite"), "seed": 3},
    }
    env = {KEY_ENV: PLANTED_API_KEY}
    campaign = parse_campaign(yaml.safe_dump(config), source="report-sim.yaml", env=env)
    result = asyncio.run(optimize_async(campaign, environ=env))
    return SimRun(folder / "store.sqlite", result.run_id)


def copy_run(run: SimRun, folder: Path) -> SimRun:
    """A private copy of a run's store, for tests that change it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(run.store, folder / "store.sqlite")
    return SimRun(folder / "store.sqlite", run.run_id)


def soft_results() -> dict:
    """A synthetic ``result["soft"]`` in the soft-prompt stage's schema."""
    names = [
        "text init: claims_a",
        "text init: claims_b",
        "vector init: claims_target",
        "fused: claims_target",
    ]
    curves = {
        name: [
            {
                "step": step,
                "loss": 2.0 * math.exp(-step / (6 + 3 * k)) + 0.3,
                "dev": 0.5 + 0.3 * (1 - math.exp(-step / 8)) + 0.02 * k if step % 5 == 0 else None,
            }
            for step in range(21)
        ]
        for k, name in enumerate(names)
    }
    tasks = ["claims_a", "claims_b", "claims_target"]
    return {
        "curves": curves,
        "gate": {
            "tasks": tasks,
            "pool": ["claims_a prompt", "claims_b prompt", "target init"],
            "weights": [[0.8, 0.15, 0.05], [0.1, 0.85, 0.05], [0.35, 0.4, 0.25]],
        },
        "similarity": {"tasks": tasks, "matrix": [[1.0, 0.42, 0.61], [0.42, 1.0, -0.55], [0.61, -0.55, 1.0]]},
        "comparison": [
            {
                "name": "soft prompt (text init)",
                "kind": "soft",
                "accuracy": 0.7,
                "ci": [0.52, 0.86],
                "ece": 0.12,
                "objective": 0.72,
            },
            {
                "name": "soft prompt (vector init)",
                "kind": "soft",
                "accuracy": 0.75,
                "ci": [0.58, 0.9],
                "ece": None,
                "objective": None,
            },
            {
                "name": "fused soft prompt",
                "kind": "soft",
                "accuracy": 0.83,
                "ci": [0.67, 0.96],
                "ece": 0.09,
                "objective": 0.84,
            },
        ],
    }


def with_soft(run: SimRun, folder: Path, soft: dict | None = None) -> SimRun:
    """A copy of ``run`` whose saved result carries a soft-prompt section."""
    copy = copy_run(run, folder)
    store = RunStore(copy.store)
    result = store.result(copy.run_id)
    store.set_result(copy.run_id, {**result, "soft": soft if soft is not None else soft_results()})
    store.close()
    return copy


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory, fake_server_session) -> SimRun:
    fake_server_session.reset()
    try:
        return run_sim_campaign(tmp_path_factory.mktemp("report-run"), fake_server_session)
    finally:
        fake_server_session.reset()


def _gather(run: SimRun, **kwargs) -> dict:
    store = RunStore(run.store)
    try:
        return gather_report(store, run.run_id, **kwargs)
    finally:
        store.close()


def _store_rows(run: SimRun) -> tuple[list[dict], dict]:
    store = RunStore(run.store)
    try:
        return store.candidates(run.run_id), store.result(run.run_id)
    finally:
        store.close()


def test_stages_hold_every_candidate_and_a_monotone_best_so_far(sim_run):
    report = _gather(sim_run)
    candidates, _ = _store_rows(sim_run)
    assert report["run"]["status"] == "done"
    assert report["run"]["created"] <= report["run"]["last_activity"] <= report["run"]["updated"]
    for stage in report["stages"]:
        rows = [c for c in candidates if c["stage"] == stage["name"]]
        assert {c["id"] for c in stage["candidates"]} == {c["id"] for c in rows} and rows
        best = [b["objective"] for b in stage["best_so_far"]]
        assert best == sorted(best), "best so far must never go down"
        assert best[-1] == pytest.approx(max(c["objective"] for c in rows))
        assert [b["iteration"] for b in stage["best_so_far"]] == list(range(stage["iterations"] + 1))
    assert report["stages"][0]["tasks"] == ["claims_a", "claims_b"]
    assert {d["name"]: d["direction"] for d in report["dimensions"]}["ece"] == "min"


def test_pareto_front_is_exactly_the_non_dominated_candidates(sim_run):
    pareto = _gather(sim_run)["pareto"]
    assert (pareto["x"], pareto["y"], pareto["x_direction"], pareto["y_direction"]) == (
        "accuracy",
        "ece",
        "max",
        "min",
    )

    def dominates(a, b):  # accuracy up, ece down
        return a["x"] >= b["x"] and a["y"] <= b["y"] and (a["x"] > b["x"] or a["y"] < b["y"])

    for group in pareto["groups"]:
        points = group["points"]
        assert points and group["front"]
        for index, point in enumerate(points):
            dominated = any(dominates(other, point) for other in points)
            assert (index in group["front"]) == (not dominated), point


def test_usage_timeline_adds_up_to_the_call_log(sim_run):
    usage = _gather(sim_run)["usage"]
    totals, last = usage["totals"], usage["timeline"][-1]
    assert last["calls"] == totals["calls"] == sum(u["calls"] for u in usage["by_role"].values())
    assert last["cache_hits"] == totals["cache_hits"]
    assert last["tokens"] == totals["prompt_tokens"] + totals["completion_tokens"]
    assert totals["calls"] > 100 and any(role.startswith("reference") for role in usage["by_role"])
    times = [p["t"] for p in usage["timeline"]]
    assert times[0] == 0 and times == sorted(times)


def test_comparison_rows_carry_the_held_out_intervals(sim_run):
    report = _gather(sim_run)
    _, result = _store_rows(sim_run)
    test = result["final"]["test"]
    names = [row["name"] for row in report["comparison"]]
    assert names[:3] == ["baseline prompt", "best stage-1 prompt", "best stage-2 prompt"]
    assert [row["kind"] for row in report["comparison"][3:]] == ["trivial", "trivial"]
    assert names[3].startswith("majority: always ") and names[4].startswith("uniform random")
    winner = report["comparison"][2]
    intervals = test["winner"]["per_task"]["claims_target"]["intervals"]
    assert winner["ci"] == intervals["accuracy"] and winner["ece_ci"] == intervals["ece"]
    assert winner["accuracy"] == test["winner"]["scores"]["accuracy"]
    assert winner["ci"][0] <= winner["accuracy"] <= winner["ci"][1]
    prompts = {row["role"].split(" ")[0]: row for row in report["prompts"]}
    assert prompts["winner"]["prompt"] == result["final"]["winner"]["prompt"]
    assert prompts["winner"]["test_objective"] == test["winner"]["objective"]


def test_soft_section_absent_gives_a_note_present_is_validated(sim_run, tmp_path):
    plain = _gather(sim_run)
    assert plain["soft"] is None
    assert plain["soft_note"].startswith("soft-prompt stage not run") and "soft.enabled" in plain["soft_note"]
    report = _gather(with_soft(sim_run, tmp_path))
    assert report["soft_note"] is None
    assert report["soft"]["gate"]["weights"][1] == [0.1, 0.85, 0.05]
    assert len(report["soft"]["curves"]) == 4
    kinds = [row["kind"] for row in report["comparison"]]
    assert kinds == ["discrete"] * 3 + ["soft"] * 3 + ["trivial"] * 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s["gate"]["weights"][1].pop(), "result.soft.gate.weights[1]: expected 3 values"),
        (lambda s: s["similarity"]["matrix"].pop(), "result.soft.similarity.matrix: expected 3 x 3"),
        (lambda s: s["comparison"][0].update(kind="hard"), "result.soft.comparison[0].kind"),
        (lambda s: s["comparison"][1].update(ci=[0.9, 0.1]), "result.soft.comparison[1].ci"),
        (lambda s: s["curves"]["fused: claims_target"][2].update(step="x"), "[2].step"),
    ],
)
def test_malformed_soft_results_name_the_run_and_field(sim_run, tmp_path, change, where):
    soft = soft_results()
    change(soft)
    with pytest.raises(ReportError) as err:
        _gather(with_soft(sim_run, tmp_path, soft))
    assert where in str(err.value) and sim_run.run_id in str(err.value)


def test_pareto_dimensions_can_be_chosen_and_unknown_ones_are_named(sim_run):
    pareto = _gather(sim_run, pareto_dims=["macro_f1", "brier"])["pareto"]
    assert (pareto["x"], pareto["y_direction"]) == ("macro_f1", "min")
    with pytest.raises(ReportError, match="no dimension 'judge_clarity'.*available: accuracy"):
        _gather(sim_run, pareto_dims=["accuracy", "judge_clarity"])
    with pytest.raises(ReportError, match="two different dimensions"):
        _gather(sim_run, pareto_dims=["accuracy"])


def test_unknown_run_is_reported_with_the_store(sim_run):
    with pytest.raises(RunNotFound, match="no run 'nope'"):
        _gather(SimRun(sim_run.store, "nope"))


def test_a_run_stopped_by_its_budget_reports_what_it_has(tmp_path, fake_server):
    stopped = run_sim_campaign(tmp_path, fake_server, budget={"max_calls": 20})
    report = _gather(stopped)
    assert report["run"]["status"] == "stopped"
    assert report["final"] is None and report["comparison"] == []
    assert report["stages"][0]["candidates"], "stage 1 had started before the budget ran out"
    assert "soft.enabled is false" in report["soft_note"]
    assert report["prompts"] and report["prompts"][0]["role"].startswith("Stage 1")
    store = RunStore(stopped.store)
    page = build_report(store, stopped.run_id, environ={})
    markdown = build_report(store, stopped.run_id, fmt="md", environ={})
    store.close()
    assert 'class="status stopped"' in page and "No held-out comparison yet" in page
    assert report["answer"]["prompt"] and "Best prompt so far" in page and "Best prompt so far" in markdown
    if not report["stages"][1]["candidates"]:
        assert "stage not reached" in page
    assert "_No held-out comparison yet._" in markdown


def test_redact_config_blanks_secret_fields_and_url_credentials():
    config = {
        "models": {
            "scorer": {
                "api_key_env": "OPENAI_API_KEY",
                "max_tokens": 256,
                "api_base": "https://user:hunter2-password@example.test/v1?api-key=abc123456&x=1",
                "options": {
                    "api_key": "sk-live-123456789",
                    "headers": {"Authorization": "Bearer xyz", "X-Id": "7"},
                },
            }
        },
        "soft": {"n_virtual_tokens": 8},
    }
    clean = redact_config(config)
    scorer = clean["models"]["scorer"]
    assert scorer["api_key_env"] == "OPENAI_API_KEY" and scorer["max_tokens"] == 256
    assert scorer["options"]["api_key"] == REDACTED
    assert scorer["options"]["headers"] == {"Authorization": REDACTED, "X-Id": "7"}
    assert "hunter2" not in scorer["api_base"] and "abc123456" not in scorer["api_base"]
    assert (
        scorer["api_base"].startswith("https://")
        and "example.test/v1" in scorer["api_base"]
        and "x=1" in scorer["api_base"]
    )
    assert clean["soft"] == {"n_virtual_tokens": 8}


def test_scrub_secrets_removes_secret_environment_values_in_every_encoding():
    env = {
        "OPENAI_API_KEY": 'sk-a&b"c<d>1234',
        "HF_TOKEN": "hf_abcdefgh",
        "HOME": "/root/somewhere",
        "X_KEY": "1",
    }
    text = (
        'raw sk-a&b"c<d>1234 html sk-a&amp;b&quot;c&lt;d&gt;1234 json sk-a&b\\"c<d>1234'
        " hf_abcdefgh /root/somewhere 1"
    )
    scrubbed = scrub_secrets(text, env)
    assert "1234" not in scrubbed and "hf_abcdefgh" not in scrubbed
    assert scrubbed.count("[redacted:OPENAI_API_KEY]") == 3 and "[redacted:HF_TOKEN]" in scrubbed
    assert "/root/somewhere" in scrubbed and scrubbed.endswith(" 1"), "non-secret names and short values stay"
