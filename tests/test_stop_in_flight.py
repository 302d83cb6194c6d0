"""A stop (stop file, time limit) while requests are in flight: the answers the server still sends
are kept, so a resumed run does not send (and pay for) the same deterministic requests again."""

from __future__ import annotations

import hashlib
import json

from tests.runtime_campaign import cli, popen_cli, query, wait_for, write_campaign


def _key(request) -> str:
    return hashlib.sha256(json.dumps(request.body, sort_keys=True).encode()).hexdigest()


def test_requests_in_flight_at_a_stop_are_not_sent_again_on_resume(tmp_path, sim_server):
    stop = tmp_path / "STOP"
    sim_server.latency = 0.8  # long enough that a stop lands while a batch of requests is in flight
    campaign = write_campaign(tmp_path, sim_server, budget={"stop_file": str(stop)})
    proc = popen_cli("run", str(campaign), "--no-report", cwd=tmp_path)
    wait_for(lambda: len(sim_server.requests) >= 12, what="requests in flight")
    stop.touch()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    store = tmp_path / "runs" / "store.sqlite"
    ((run_id, status),) = query(store, "SELECT run_id, status FROM runs")
    assert status == "stopped"
    answered = {_key(r) for r in sim_server.requests if r.outcome == "reply"}
    deterministic_before = {_key(r) for r in sim_server.requests if not r.body.get("temperature")}
    assert deterministic_before

    stop.unlink()
    sim_server.latency = 0.0
    seen = len(sim_server.requests)
    resumed = cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    again = [r for r in sim_server.requests[seen:] if _key(r) in answered and not r.body.get("temperature")]
    assert again == [], f"{len(again)} requests the server had already answered were sent again"
