"""``scoring.mode`` end to end: a loopback OpenAI-compatible server that returns no log-probabilities.

``auto`` probes once and scores by generated answers; ``label_scores`` stops before the search spends
anything, naming log-probabilities; ``anthropic/`` with ``label_scores`` is refused when the file loads;
``models --ping`` says whether log-probabilities come back.
"""

from __future__ import annotations

import json

import pytest

from tests.runtime_campaign import cli, lines, query, write_campaign


def test_auto_without_logprobs_scores_generated_answers(tmp_path, sim_server):
    sim_server.logprobs = False
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "auto"})
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = "generated answers: openai/sim returned no log-probabilities to a probe"
    assert f"scoring   {shown}" in lines(proc.stdout)  # the live display's last frame
    store = tmp_path / "runs" / "store.sqlite"
    (payload,) = query(store, "SELECT payload FROM events WHERE kind='scoring'")
    assert json.loads(payload[0])["mode"] == "generate"
    ((run_id, result),) = query(store, "SELECT run_id, result FROM runs")
    test = json.loads(result)["final"]["test"]
    assert test["winner"]["scores"]["accuracy"] > 0.4
    assert "ece" not in test["winner"]["scores"]  # no probabilities, so no calibration pretended
    probes = [r for r in sim_server.requests if r.body.get("logprobs")]
    assert len(probes) == 1  # one probe; every scoring call after it generates
    report = cli(
        "report",
        run_id,
        "--store",
        str(store),
        "--format",
        "md",
        "--out",
        "-",
        cwd=tmp_path,
    )
    assert f"scoring: {shown}" in lines(report.stdout)


def test_auto_with_logprobs_uses_label_scores(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "auto"})
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The server has log-probabilities but does not score whole labels (no prompt_logprobs): the
    # first-token estimate, and the run says so on screen and in its notes (issue 22 item 8).
    shown = "scoring   label scores (log-probabilities): openai/sim returns first-token log-probabilities"
    assert shown in lines(proc.stdout)
    assert "warning: openai/sim does not score whole labels" in proc.stdout
    (note,) = query(
        tmp_path / "runs" / "store.sqlite", "SELECT payload FROM events WHERE kind='scoring_note'"
    )
    assert "bounded by the 20th alternative's probability" in json.loads(note[0])["note"]
    (result,) = query(tmp_path / "runs" / "store.sqlite", "SELECT result FROM runs")
    assert "ece" in json.loads(result[0])["final"]["test"]["winner"]["scores"]


def test_label_scores_without_logprobs_stops_before_spending(tmp_path, sim_server):
    sim_server.logprobs = False
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "label_scores"})
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    store = tmp_path / "runs" / "store.sqlite"
    (run_id,) = query(store, "SELECT run_id FROM runs")[0]
    message = (
        "Unsupported: scoring.mode: label_scores needs log-probabilities and openai/sim returned none to a "
        "probe; set scoring.mode to auto or generate"
    )
    out = lines(proc.stdout)
    assert f"failed: {message}" in out
    assert f"fix the cause, then resume with: promptfusion run {campaign} --resume {run_id}" in out
    assert len(sim_server.requests) == 1  # the probe, nothing else
    assert query(store, "SELECT status, message FROM runs") == [("failed", message)]

    # Nothing was scored, so the corrected file may change the scoring mode and the run continues.
    fixed = write_campaign(tmp_path, sim_server, scoring={"mode": "generate"})
    resumed = cli("run", str(fixed), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert query(store, "SELECT status FROM runs") == [("done",)]
    (config,) = query(store, "SELECT config FROM runs")[0]
    assert json.loads(config)["scoring"]["mode"] == "generate"


def test_label_scores_on_anthropic_is_refused_when_the_file_loads(tmp_path, fake_server):
    campaign = write_campaign(
        tmp_path,
        fake_server,
        models={"scorer": {"model": "anthropic/claude-3-5-haiku-20241022"}},
        scoring={"mode": "label_scores"},
    )
    line_no = lines(campaign.read_text()).index("  mode: label_scores") + 1
    expected = (
        f"error: {campaign}:{line_no}: scoring.mode: label_scores needs log-probabilities and "
        "anthropic/claude-3-5-haiku-20241022 never returns them; set scoring.mode to auto or generate"
    )
    for command in (("check", str(campaign)), ("run", str(campaign))):
        proc = cli(*command, cwd=tmp_path)
        assert (proc.returncode, proc.stderr.strip()) == (1, expected)
    assert fake_server.requests == []


def test_unknown_scoring_key_names_the_field(tmp_path, fake_server):
    campaign = write_campaign(tmp_path, fake_server, scoring={"mdoe": "auto"})
    proc = cli("check", str(campaign), cwd=tmp_path)
    line_no = lines(campaign.read_text()).index("  mdoe: auto") + 1
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"error: {campaign}:{line_no}: scoring.mdoe: unknown key (did you mean 'mode'?)"
    )


@pytest.mark.parametrize("logprobs", [True, False])
def test_models_ping_reports_logprobs(tmp_path, sim_server, logprobs):
    sim_server.logprobs = logprobs
    campaign = write_campaign(tmp_path, sim_server)
    proc = cli("models", str(campaign), "--ping", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scorer_row = next(line for line in lines(proc.stdout) if "scorer" in line)
    cells = [cell.strip() for cell in scorer_row.split("│") if cell.strip()]
    assert cells[-1] == ("yes" if logprobs else "no (none returned)")


def test_content_free_calibration_without_logprobs_is_said_not_silently_skipped(tmp_path, sim_server):
    sim_server.logprobs = False
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "auto", "calibration": "content_free"})
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: scoring.calibration: content_free is not applied" in proc.stdout
    store = tmp_path / "runs" / "store.sqlite"
    (note,) = query(store, "SELECT payload FROM events WHERE kind='scoring_note'")
    assert (
        "this run generates answers (openai/sim returned no log-probabilities" in json.loads(note[0])["note"]
    )
