"""``promptfusion export`` / ``export_winner``: a finished run's winner as a DSPy state file that the
pinned dspy loads, as JSON with scores, intervals and provenance, and as plain text."""

from __future__ import annotations

import json

import pytest

from orchestrator import export_winner, optimize
from orchestrator.errors import PromptfusionError
from orchestrator.export.dspy_format import dspy_state
from orchestrator.export.winner import ExportedWinner, split_demos
from orchestrator.search.demos import with_demos
from orchestrator.store import RunStore
from tests.runtime_campaign import cli, write_campaign


@pytest.fixture
def finished(tmp_path, sim_server):
    result = optimize(write_campaign(tmp_path, sim_server))
    assert result.status == "done"
    return result


def test_json_and_txt_hold_the_winner_and_how_it_was_measured(finished, tmp_path):
    text = export_winner(finished.run_id, "txt", store=finished.store)
    assert text.read_text() == finished.answer["prompt"]
    assert text == tmp_path / "runs" / "exports" / f"{finished.run_id}.txt"
    exported = json.loads(export_winner(finished.run_id, "json", store=finished.store).read_text())
    assert exported["prompt"] == finished.answer["prompt"] and exported["status"] == "done"
    assert exported["measured"] == finished.answer["measured"] and "held-out test" in exported["measured"]
    low, high = exported["intervals"]["balanced_accuracy"]
    assert low <= exported["scores"]["balanced_accuracy"] <= high
    assert exported["test_examples"] == 24 and exported["verdict"]
    assert exported["models"] == {"scorer": "openai/sim", "reference": "openai/sim"}
    task = exported["task"]
    assert task["name"] == "claims_target" and len(task["fingerprint"]) == 64
    assert task["data_changed_since_run"] is False and "when the run started" in task["fingerprint_note"]
    assert task["input_fields"] == ["input"] and task["label_field"] == "label"
    names = [row["name"] for row in exported["comparison"]]
    assert any(name.startswith("majority") for name in names)


def test_cli_export_dspy_loads_in_the_pinned_dspy(finished, tmp_path):
    dspy = pytest.importorskip("dspy", reason="dspy is in the bench extra: pip install 'promptfusion[bench]'")
    out = tmp_path / "winner.json"
    proc = cli(
        "export",
        finished.run_id,
        "--format",
        "dspy",
        "--out",
        str(out),
        "--store",
        finished.store,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert f'dspy.Predict("input -> label").load("{out}")' in proc.stdout
    program = dspy.Predict("input -> label")
    program.load(str(out))
    assert program.signature.instructions == finished.answer["prompt"]
    assert program.demos == [] and program.metadata["promptfusion"]["run_id"] == finished.run_id
    # The fields as dspy itself writes them, so its positional pairing keeps names and prefixes.
    fresh = dspy.Predict("input -> label").dump_state()["signature"]["fields"]
    assert json.loads(out.read_text())["signature"]["fields"] == fresh


def test_dspy_state_carries_demonstrations_apart(tmp_path):
    dspy = pytest.importorskip("dspy", reason="dspy is in the bench extra: pip install 'promptfusion[bench]'")
    prompt = with_demos(
        "Say whether the claim is true.", [("the sky is green", "no"), ("water is wet", "yes")]
    )
    instruction, demos = split_demos(prompt, ["claim"], "verdict")
    assert instruction == "Say whether the claim is true."
    assert demos == [
        {"claim": "the sky is green", "verdict": "no"},
        {"claim": "water is wet", "verdict": "yes"},
    ]
    winner = _winner(prompt, instruction, demos, {"input_fields": ["claim"], "label_field": "verdict"})
    path = tmp_path / "state.json"
    path.write_text(json.dumps(dspy_state(winner)))
    program = dspy.Predict("claim -> verdict")
    program.load(str(path))
    assert program.signature.instructions == instruction and program.demos == demos
    messages = dspy.ChatAdapter().format(program.signature, program.demos, {"claim": "fire is cold"})
    assert instruction in messages[0]["content"]
    assert [m["content"].split("\n")[1] for m in messages[1:3]] == ["the sky is green", "no"]


def test_demonstrations_stay_in_the_prompt_when_they_cannot_be_split():
    prompt = with_demos("Compare the two texts.", [("a | b", "same")])
    assert split_demos(prompt, ["left", "right"], "label") == (prompt, [])  # two input fields
    assert split_demos("No demos here.", ["input"], "label") == ("No demos here.", [])


def test_export_refuses_what_it_cannot_write(tmp_path):
    store = RunStore(tmp_path / "s.sqlite")
    run_id = store.create_run("empty", {}, 0)
    with pytest.raises(PromptfusionError, match="no scored prompt yet"):
        export_winner(run_id, "json", store=store.path)
    with pytest.raises(ValueError, match="unknown export format"):
        export_winner(run_id, "yaml", store=store.path)


def test_a_dspy_file_must_end_in_json(finished, tmp_path):
    with pytest.raises(ValueError, match="must end in .json"):
        export_winner(finished.run_id, "dspy", out=tmp_path / "w.dspy", store=finished.store)


def _winner(prompt: str, instruction: str, demos: list, task: dict) -> ExportedWinner:
    return ExportedWinner(
        run_id="r",
        status="done",
        prompt=prompt,
        instruction=instruction,
        demos=demos,
        objective=None,
        scores={},
        intervals={},
        measured="",
        verdict=None,
        test_examples=None,
        models={"scorer": None, "reference": None},
        task=task,
    )
