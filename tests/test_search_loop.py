"""The dual-stage search end to end against a real loopback server answering as a simulated LLM.

Fast and deterministic: it checks the loop's behaviour (improvement, determinism by seed, budgets,
resume without repeated requests), not any model's quality. The real embedded model runs in the
slow end-to-end test.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from orchestrator.config import Campaign
from orchestrator.loading import parse_campaign
from orchestrator.runner import optimize_async, resume_async
from tests import simulated_llm


def _campaign(tmp_path, server, *, seed=0, budget=None, store="store.sqlite", cache="cache.sqlite", **search):
    paths = simulated_llm.write_tasks(tmp_path / "tasks")
    model = {"model": "openai/sim", "api_base": server.openai_base, "max_retries": 1, "timeout": 10}
    config = {
        "name": "sim",
        "models": {"reference": {**model, "temperature": 1.0}, "scorer": {**model, "concurrency": 16}},
        "tasks": {
            "source": [{"name": n, "path": str(paths[n])} for n in ("claims_a", "claims_b")],
            "target": {"name": "claims_target", "path": str(paths["claims_target"])},
            "dev_size": 20,
            "test_size": 40,
        },
        "search": {
            "stage1_iterations": 2,
            "stage2_iterations": 2,
            "candidates_per_step": 4,
            "minibatch_size": 12,
            "patience": 3,
            "baseline_prompts": ["You are an assistant."],
            **search,
        },
        "objective": {"weights": {"accuracy": 1.0, "ece": 0.2}},
        "budget": budget or {},
        "run": {"store": str(tmp_path / store), "cache": str(tmp_path / cache), "seed": seed},
    }
    return parse_campaign(yaml.safe_dump(config), source="sim.yaml", env={})


def _request_keys(server) -> list[str]:
    return [hashlib.sha256(json.dumps(r.body, sort_keys=True).encode()).hexdigest() for r in server.requests]


async def test_search_improves_and_reports_every_stage(tmp_path, sim_server):
    events = []
    result = await optimize_async(_campaign(tmp_path, sim_server), on_event=lambda k, p: events.append(k))
    assert result.status == "done", result.message
    stages = {c["stage"] for c in result.history}
    assert stages == {"source", "target"}
    source = [c for c in result.history if c["stage"] == "source"]
    assert {"claims_a", "claims_b"} == set(source[0]["per_task"])  # stage 1 rates over all source tasks
    assert result.final["winner"]["objective"] >= max(
        c["objective"] for c in result.history if c["stage"] == "target" and c["origin"] == "baseline"
    )
    test = result.final["test"]
    assert set(test) == {"baseline", "stage1_best", "winner"}
    assert test["winner"]["scores"]["accuracy"] > test["baseline"]["scores"]["accuracy"]
    assert "accuracy" in test["winner"]["per_task"]["claims_target"]["intervals"]
    for kind in ("stage", "proposed", "scored", "selected", "finalists", "test"):
        assert kind in events
    assert len(_request_keys(sim_server)) == len(set(_request_keys(sim_server)))


async def test_same_seed_same_history_different_seed_different_candidates(tmp_path, sim_server):
    first = await optimize_async(_campaign(tmp_path / "a", sim_server, seed=1))
    again = await optimize_async(_campaign(tmp_path / "b", sim_server, seed=1))
    other = await optimize_async(_campaign(tmp_path / "c", sim_server, seed=2))

    def prompts(result):
        return [(c["stage"], c["prompt"], round(c["objective"], 12)) for c in result.history]

    assert prompts(first) == prompts(again)
    proposed = {c["prompt"] for c in first.history if c["origin"] == "proposed"}
    assert proposed != {c["prompt"] for c in other.history if c["origin"] == "proposed"}


async def test_token_budget_stops_cleanly_and_resume_finishes_without_repeats(tmp_path, sim_server):
    # A token budget is not planned for (only calls are), so it cuts the run mid-way: the resumed run
    # must then be the uninterrupted one.
    campaign = _campaign(tmp_path, sim_server, budget={"max_tokens": 8000})
    stopped = await optimize_async(campaign)
    assert stopped.status == "stopped"
    assert "max_tokens" in stopped.message
    assert stopped.answer is not None and not stopped.answer["tested"]
    resumed = await resume_async(
        stopped.run_id, store_path=tmp_path / "store.sqlite", budget={"max_tokens": 10**9}
    )
    assert resumed.status == "done", resumed.message
    keys = _request_keys(sim_server)
    assert len(keys) == len(set(keys)), "a request was sent twice across the stop and the resume"
    uninterrupted = await optimize_async(
        _campaign(tmp_path / "u", sim_server, store="u.sqlite", cache="u-cache.sqlite")
    )
    assert resumed.final["winner"]["prompt"] == uninterrupted.final["winner"]["prompt"]
    assert [c["prompt"] for c in resumed.history] == [c["prompt"] for c in uninterrupted.history]


async def test_finished_run_resumes_to_its_saved_result(tmp_path, sim_server):
    done = await optimize_async(_campaign(tmp_path, sim_server, stage1_iterations=1, stage2_iterations=0))
    before = len(sim_server.requests)
    again = await resume_async(done.run_id, store_path=tmp_path / "store.sqlite")
    assert again.status == "done" and len(sim_server.requests) == before
    assert again.final["winner"]["prompt"] == done.final["winner"]["prompt"]


async def test_planted_api_key_reaches_the_server_but_no_file(tmp_path, sim_server):
    secret = "sk-planted-7f3e9a1c5b"
    config = _campaign(tmp_path, sim_server, stage1_iterations=1, stage2_iterations=0)
    models = config.models.model_copy(
        update={
            role: getattr(config.models, role).model_copy(update={"api_key_env": "PF_PLANTED_KEY"})
            for role in ("reference", "scorer")
        }
    )
    campaign = config.model_copy(update={"models": models})
    result = await optimize_async(campaign, environ={"PF_PLANTED_KEY": secret})
    assert result.status == "done"
    assert any(secret in str(r.headers) for r in sim_server.requests), "the key was not even used"
    from orchestrator.report import write_report

    write_report(campaign.run.store, result.run_id)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any("checkpoints" in p.name for p in files)
    for path in files:
        assert secret.encode() not in path.read_bytes(), f"{path} holds the API key"


async def test_a_prompt_that_breaks_the_scorer_scores_as_failed_not_a_failed_run(tmp_path, fake_server):
    from tests.fakeserver import Fault

    def respond(body):
        system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
        if "stay calm" in system.lower():
            return Fault.http_status(500)
        return simulated_llm.respond(body)

    fake_server.script.reset(respond)
    result = await optimize_async(_campaign(tmp_path, fake_server, seed=3, stage2_iterations=0))
    assert result.status == "done", result.message
    broken = [c for c in result.history if "stay calm" in c["prompt"].lower()]
    assert broken, "seed 3 no longer proposes a 'stay calm' prompt; pick another seed"
    for cand in broken:
        assert cand["objective"] == 0.0
        assert all(r["scoring"] == "failed" and "max_errors" in r["error"] for r in cand["per_task"].values())


async def test_a_scorer_without_label_scoring_falls_back_to_generated_answers(tmp_path, sim_server):
    campaign = _campaign(tmp_path, sim_server, stage1_iterations=1, stage2_iterations=0)
    scorer = campaign.models.scorer.model_copy(
        update={"model": "anthropic/sim", "api_base": sim_server.anthropic_base}
    )
    campaign = campaign.model_copy(update={"models": campaign.models.model_copy(update={"scorer": scorer})})
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    first = result.history[0]["per_task"]["claims_a"]
    assert first["scoring"] == "generate" and first["failures"] == 0
    assert any(r.path.endswith("/v1/messages") for r in sim_server.requests)


def _is_proposal(request) -> bool:
    return "<prompt>" in request.body["messages"][-1]["content"]


@pytest.mark.parametrize("overlap", [True, False])
async def test_first_round_is_written_while_the_baselines_are_scored_only_when_asked(
    tmp_path, sim_server, overlap
):
    campaign = _campaign(tmp_path, sim_server, stage2_iterations=0, overlap_first_round=overlap)
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    requests = sim_server.requests
    first_proposal = next(i for i, r in enumerate(requests) if _is_proposal(r))
    # The scoring-mode and label-scoring probes, then two source tasks x minibatch, before any candidate
    # is scored.
    baseline_calls = 2 + 2 * 12
    if overlap:
        # The proposals go out with the first baseline calls, and round 1 shows unscored baselines.
        assert first_proposal < baseline_calls
        assert "score: not measured yet" in requests[first_proposal].body["messages"][-1]["content"]
    else:
        assert first_proposal == baseline_calls
        assert "not measured yet" not in requests[first_proposal].body["messages"][-1]["content"]
    rounds = sorted({c["iteration"] for c in result.history if c["stage"] == "source"})
    assert rounds == [0, 1, 2]  # the same two rounds either way
    later_rounds = [r for r in requests if _is_proposal(r)][4:]  # 4 candidates per round
    assert later_rounds and all(
        "not measured yet" not in r.body["messages"][-1]["content"] for r in later_rounds
    )


async def test_round_written_early_is_dropped_when_the_baselines_reach_the_target(tmp_path, sim_server):
    campaign = _campaign(tmp_path, sim_server, stage2_iterations=0, target_score=0.0)
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    assert [c["origin"] for c in result.history if c["stage"] == "source"] == ["baseline"]
    assert result.final["winner"]["prompt"] == "You are an assistant."


async def test_a_prompt_already_scored_on_the_same_examples_is_not_evaluated_again(tmp_path, sim_server):
    # Target = a source task, dev split = minibatch: stage 2's promoted prompts and the finalists'
    # "full dev" rescoring are all known from stage 1, so only the held-out test reaches the gateway.
    campaign = _campaign(tmp_path, sim_server, stage2_iterations=0, minibatch_size=20)
    config = campaign.model_dump()
    config["tasks"]["target"] = config["tasks"]["source"][0]
    result = await optimize_async(Campaign.model_validate(config))
    assert result.status == "done", result.message
    scorer = next(v for k, v in result.usage.items() if k.startswith("scorer"))
    assert scorer["cache_hits"] == 0
    assert [c["origin"] for c in result.history if c["stage"] == "target"].count("promoted") >= 1


def test_leftover_proposals_without_the_written_round_flag_do_not_reroute(tmp_path, sim_server):
    """A checkpoint from before the overlapped round (proposals left in the state after ``filter``)
    must loop normally, not re-filter old proposals and lose a round of patience."""
    from types import SimpleNamespace

    from orchestrator.search.graph import route_after_select

    campaign = _campaign(tmp_path, sim_server)
    runtime = SimpleNamespace(context=SimpleNamespace(campaign=campaign, calls_left=lambda: None))
    state = {"stage": "source", "iteration": 1, "stale": 0, "best": {}, "history": [], "proposals": ["old"]}
    assert route_after_select(state, runtime) == "propose"
    assert route_after_select({**state, "round_written": True}, runtime) == "filter"


@pytest.mark.parametrize(
    ("winner", "verdict", "improved"),
    [(0.334, "matched", False), (0.40, "improved on", True), (0.30, "did not improve on", False)],
)
def test_the_closing_verdict_calls_a_noise_sized_gain_a_match(winner, verdict, improved):
    from orchestrator.run_result import RunResult, summary_line

    final = {"test": {"winner": {"objective": winner}, "baseline": {"objective": 0.333}}}
    result = RunResult(run_id="r", status="done", message="", final=final)
    assert f"winner {verdict} the baseline" in summary_line(result)
    assert result.improved is improved
