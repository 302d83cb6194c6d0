"""MLflow tracking against the real thing, checked through ``MlflowClient``: a ``mlflow server`` with a
SQLite backend on a free loopback port, a resumed run, a file store, a server killed mid-run and a
server that is not there. The campaigns are the simulated search (``tests.simulated_llm``)."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import optimize, resume
from orchestrator.store import RunStore
from orchestrator.tracking import LINK_EVENT, WARNING_EVENT, mlflow_link
from tests.mlflow_server import MlflowServer, free_port
from tests.runtime_campaign import cli, cli_env, popen_cli, wait_for, write_campaign

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None,
    reason="mlflow is not installed (pip install 'promptfusion[mlflow]'; the lock installs it in CI)",
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Both servers start at once: the second (killed by one test) is ready long before it is needed."""
    shared = MlflowServer(tmp_path_factory.mktemp("mlflow-shared"))
    doomed = MlflowServer(tmp_path_factory.mktemp("mlflow-doomed"))
    yield {"shared": shared, "doomed": doomed}
    shared.stop()
    doomed.stop()


@pytest.fixture
def server(servers) -> MlflowServer:
    return servers["shared"].ready()


@pytest.fixture(autouse=True)
def _no_ambient_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _steps(client, run_id: str, key: str) -> list[int]:
    return [m.step for m in client.get_metric_history(run_id, key)]


def _artifact(uri: str, run_id: str, path: str) -> str:
    from mlflow.artifacts import download_artifacts

    return Path(download_artifacts(run_id=run_id, artifact_path=path, tracking_uri=uri)).read_text()


def _mlflow_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "mlflow" in line.lower()]


def test_server_run_holds_params_rounds_final_and_artifacts(tmp_path, sim_server, server, capsys):
    campaign = write_campaign(tmp_path, sim_server, tracking={"mlflow_uri": server.uri, "experiment": "e2e"})
    result = optimize(campaign)
    assert result.status == "done"
    link = mlflow_link(RunStore(result.store), result.run_id)
    client = _client(server.uri)
    run = client.get_run(link["mlflow_run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == result.run_id
    assert client.get_experiment(run.info.experiment_id).name == "e2e"
    params = run.data.params
    assert params["search.stage1_iterations"] == "1" and params["models.scorer.model"] == "openai/sim"
    assert params["tracking.mlflow_uri"] == server.uri and "models.scorer.api_key_env" in params
    # One point per round, the round as step: stage 1's rounds come before stage 2's.
    source = _steps(client, run.info.run_id, "round.source.objective")
    target = _steps(client, run.info.run_id, "round.target.balanced_accuracy")
    assert source == [1, 2] and target == [3, 4]
    calls = client.get_metric_history(run.info.run_id, "round.calls")
    assert [m.step for m in calls] == [1, 2, 3, 4]
    values = [m.value for m in calls]
    assert values == sorted(set(values)), "the calls so far grow round by round"
    metrics = run.data.metrics
    assert metrics["total.calls"] >= calls[-1].value and metrics["total.usd"] == 0.0
    for contender in ("winner", "baseline", "majority"):
        value = metrics[f"test.{contender}.balanced_accuracy"]
        assert metrics[f"test.{contender}.balanced_accuracy_lo"] <= value
        assert value <= metrics[f"test.{contender}.balanced_accuracy_hi"]
    assert metrics["test.n"] == 24
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.html", "winner"} <= artifacts
    assert _artifact(server.uri, run.info.run_id, "winner/prompt.txt") == result.answer["prompt"]
    assert result.run_id in _artifact(server.uri, run.info.run_id, "report.html")
    answer = json.loads(_artifact(server.uri, run.info.run_id, "winner/answer.json"))
    assert answer["measured"] == result.answer["measured"]
    # The prompt registry of a database-backed server holds the winner as a new version.
    prompt_uri = run.data.tags["promptfusion.prompt"]
    assert client.load_prompt(prompt_uri).template == result.answer["prompt"]
    assert _mlflow_lines(capsys.readouterr().err) == []


def test_resumed_run_continues_the_same_mlflow_run(tmp_path, sim_server, server):
    campaign = write_campaign(
        tmp_path, sim_server, tracking={"mlflow_uri": server.uri}, budget={"max_calls": 50}
    )
    stopped = optimize(campaign)
    assert stopped.status == "stopped"
    store = RunStore(stopped.store)
    first = mlflow_link(store, stopped.run_id)["mlflow_run_id"]
    client = _client(server.uri)
    assert client.get_run(first).info.status == "KILLED"
    rounds_before = _steps(client, first, "round.calls")
    done = resume(stopped.run_id, store=stopped.store, budget={"max_calls": 300})
    assert done.status == "done"
    assert {e["mlflow_run_id"] for e in store.events(done.run_id, LINK_EVENT)} == {first}
    run = client.get_run(first)
    assert run.info.status == "FINISHED"
    # The larger budget re-opens the search: its rounds continue the steps, none is logged twice, and
    # the totals gain a second point, at the end of the resumed run.
    steps = _steps(client, first, "round.calls")
    assert steps[: len(rounds_before)] == rounds_before and steps == list(range(1, len(steps) + 1))
    assert len(steps) > len(rounds_before)
    totals = [m.value for m in client.get_metric_history(first, "total.calls")]
    assert len(totals) == 2 and totals[1] > totals[0]
    # MLflow params cannot change: the resumed budget is a tag beside the original param.
    assert run.data.params["budget.max_calls"] == "50" and run.data.tags["changed.budget.max_calls"] == "300"
    assert "test.winner.balanced_accuracy" in run.data.metrics


def test_file_store(tmp_path, sim_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow 3 keeps ./mlruns behind this switch
    uri = (tmp_path / "mlruns").as_uri()
    result = optimize(write_campaign(tmp_path, sim_server, tracking={"mlflow_uri": uri}))
    link = mlflow_link(RunStore(result.store), result.run_id)
    client = _client(uri)
    run = client.get_run(link["mlflow_run_id"])
    assert (
        run.info.status == "FINISHED" and client.get_experiment(run.info.experiment_id).name == "promptfusion"
    )
    assert _steps(client, run.info.run_id, "round.source.objective") == [1, 2]
    assert "test.winner.accuracy_hi" in run.data.metrics
    assert (tmp_path / "mlruns").is_dir()
    assert _artifact(uri, run.info.run_id, "winner/prompt.txt") == result.answer["prompt"]


@pytest.mark.parametrize("kind", ["refused", "hung"])
def test_dead_server_warns_once_and_the_run_goes_on(tmp_path, sim_server, capsys, kind):
    with socket.socket() as hung:
        if kind == "hung":  # accepts connections (the kernel's backlog), never answers
            hung.bind(("127.0.0.1", 0))
            hung.listen(100)
        uri = f"http://127.0.0.1:{hung.getsockname()[1] if kind == 'hung' else free_port()}"
        result = optimize(write_campaign(tmp_path, sim_server, tracking={"mlflow_uri": uri}))
    assert result.status == "done"
    lines = _mlflow_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith(f"warning: MLflow tracking ({uri}) stopped"), lines
    assert "timed out" in lines[0] if kind == "hung" else "refused" in lines[0]
    store = RunStore(result.store)
    assert (
        store.events(result.run_id, LINK_EVENT) == [] and len(store.events(result.run_id, WARNING_EVENT)) == 1
    )


def test_server_killed_mid_run(tmp_path, sim_server, servers):
    doomed = servers["doomed"].ready()
    sim_server.latency = 0.25  # a few seconds per round: time to kill the server between rounds
    campaign = write_campaign(tmp_path, sim_server)
    proc = popen_cli("run", str(campaign), "--mlflow", doomed.uri, "--no-report", cwd=tmp_path)
    client = _client(doomed.uri)

    def first_round_logged() -> bool:
        runs = client.search_experiments() and client.search_runs(
            [e.experiment_id for e in client.search_experiments()]
        )
        return bool(runs) and bool(client.get_metric_history(runs[0].info.run_id, "round.calls"))

    wait_for(first_round_logged, timeout=180, what="the first round in MLflow")
    doomed.kill()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "done" in stdout
    lines = _mlflow_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith(f"warning: MLflow tracking ({doomed.uri}) stopped"), stderr
    # The server's database shows the run cut off mid-way: still RUNNING, no final comparison.
    run = _client(f"sqlite:///{doomed.log.parent / 'mlflow.db'}").search_runs(["0", "1"])[0]
    assert run.info.status == "RUNNING" and "test.winner.accuracy" not in run.data.metrics
    assert f"mlflow run: {run.info.run_id}" in stdout  # the end of `run` says where it was tracked
    store = str(tmp_path / "runs" / "store.sqlite")
    shown = cli("show", run.data.tags["promptfusion.run_id"], "--store", store, cwd=tmp_path).stdout
    assert f"mlflow run: {run.info.run_id}" in shown
    assert run.info.run_id in cli("runs", "--store", store, cwd=tmp_path).stdout


def test_without_tracking_mlflow_is_never_imported(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server)
    code = (
        "import sys; from orchestrator import optimize; "
        f"r = optimize({str(campaign)!r}); print(r.status, 'mlflow' in sys.modules)"
    )
    env = {k: v for k, v in cli_env().items() if k != "MLFLOW_TRACKING_URI"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.stdout.split()[-2:] == ["done", "False"], proc.stderr


def test_soft_prompt_files_go_up_with_their_folders(tmp_path, server):
    from orchestrator.tracking.mlflow_run import MlflowRun

    soft = tmp_path / "soft" / "run"
    (soft / "target").mkdir(parents=True)
    (soft / "target" / "soft_prompt.safetensors").write_bytes(b"\x00" * 64)
    (soft / "target" / "soft_prompt.json").write_text("{}")
    (soft / "target" / "optimizer.bin").write_bytes(b"\x00")  # not a soft prompt: stays home
    (soft / "done.json").write_text("{}")
    run = MlflowRun(server.uri, "soft")
    run.start("our-run", "c", {"a": 1})
    assert run.log_files(soft, "soft_prompts", (".safetensors", ".json")) == 3
    client = _client(server.uri)
    listed = {a.path for a in client.list_artifacts(run.run_id, "soft_prompts/target")}
    assert listed == {"soft_prompts/target/soft_prompt.safetensors", "soft_prompts/target/soft_prompt.json"}
    assert {a.path for a in client.list_artifacts(run.run_id, "soft_prompts")} >= {"soft_prompts/done.json"}
