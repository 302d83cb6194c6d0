"""One writer per run: the lease in the run store, with real SQLite and real processes.

Four processes race for one run's lease: exactly one gets it. Two CLI resumes of one run: the second
is refused with the holder's pid while the first runs. A holder killed with SIGKILL leaves its lease
behind; the next resume takes it over. A lease whose heartbeat went stale on another host is taken over.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from orchestrator.errors import RunLocked
from orchestrator.lease import RunLease
from tests import simulated_llm
from tests.runtime_campaign import REPO, cli, lines, popen_cli, query, wait_for, write_campaign

_RACER = """
import sys, time
from orchestrator.errors import RunLocked
from orchestrator.lease import RunLease
store, go = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, go - time.time()))
try:
    lease = RunLease.acquire(store, "run-1")
except RunLocked as exc:
    print("refused", exc, flush=True)
else:
    print("held", flush=True)
    time.sleep(2.0)
    lease.release()
"""


def test_processes_racing_for_one_lease_exactly_one_wins(tmp_path):
    store = tmp_path / "store.sqlite"
    go = time.time() + 3.0  # all four start importing now and try at the same instant
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(store), str(go)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=60)[0].strip() for proc in racers]
    winners = [proc.pid for proc, out in zip(racers, outputs, strict=True) if out == "held"]
    assert len(winners) == 1, outputs
    refused = [out for out in outputs if out != "held"]
    holder = rf"run run-1 is already being run by pid {winners[0]} on {re.escape(socket.gethostname())}"
    assert all(
        re.fullmatch(rf"refused {holder} \(heartbeat \d+ s ago\); wait for it to finish or stop it", out)
        for out in refused
    ), outputs


def test_stale_lease_from_another_host_is_taken_over_and_a_fresh_one_is_not(tmp_path):
    store = tmp_path / "store.sqlite"
    now = [1000.0]
    clock = lambda: now[0]  # noqa: E731
    elsewhere = RunLease(store, "run-1", stale_after=30, clock=clock, pid=4242, host="other-host")
    elsewhere.take()  # taken, never renewed: its holder died on a machine we cannot inspect
    now[0] += 10
    with pytest.raises(RunLocked) as refused:
        RunLease(store, "run-1", stale_after=30, clock=clock).take()
    assert str(refused.value) == (
        "run run-1 is already being run by pid 4242 on other-host (heartbeat 10 s ago); "
        "wait for it to finish or stop it"
    )
    now[0] += 25  # 35 s without a heartbeat
    mine = RunLease(store, "run-1", stale_after=30, clock=clock)
    mine.take()
    assert mine.holder().pid == os.getpid()
    assert not elsewhere.beat()  # the old holder learns it lost the lease
    mine.release()
    assert mine.holder() is None


@pytest.fixture
def slow_sim(fake_server):
    fake_server.script.reset(simulated_llm.respond)
    return fake_server


def _stopped_run(tmp_path, server):
    campaign = write_campaign(tmp_path, server, search={"stage1_iterations": 2, "stage2_iterations": 2})
    proc = cli("run", str(campaign), "--max-calls", "40", "--no-report", cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    store = tmp_path / "runs" / "store.sqlite"
    ((run_id,),) = query(store, "SELECT run_id FROM runs")
    return campaign, store, run_id


def _holder(store, run_id):
    rows = query(store, "SELECT pid FROM leases WHERE run_id=?", run_id)
    return rows[0][0] if rows else None


def test_second_resume_of_a_live_run_is_refused_with_the_holders_pid(tmp_path, slow_sim):
    campaign, store, run_id = _stopped_run(tmp_path, slow_sim)
    slow_sim.latency = 1.0  # the first resume is surely still running when the second one asks
    first = popen_cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    wait_for(lambda: _holder(store, run_id) == first.pid, what="the first resume to hold the lease")
    second = cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert second.returncode == 1
    assert re.fullmatch(
        rf"error: run {run_id} is already being run by pid {first.pid} on {re.escape(socket.gethostname())} "
        r"\(heartbeat \d+ s ago\); wait for it to finish or stop it",
        lines(second.stderr)[-1],
    ), second.stderr
    slow_sim.latency = 0.0
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert query(store, "SELECT status FROM runs") == [("done",)]
    assert _holder(store, run_id) is None  # released on exit
    # One writer: every candidate recorded once.
    assert query(store, "SELECT COUNT(*) = COUNT(DISTINCT stage || candidate_id) FROM candidates") == [(1,)]


def test_lease_of_a_killed_holder_is_taken_over(tmp_path, slow_sim):
    campaign, store, run_id = _stopped_run(tmp_path, slow_sim)
    slow_sim.latency = 1.0
    doomed = popen_cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    wait_for(lambda: _holder(store, run_id) == doomed.pid, what="the doomed resume to hold the lease")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    assert _holder(store, run_id) == doomed.pid  # left behind by the kill
    slow_sim.latency = 0.0
    proc = cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert query(store, "SELECT status FROM runs") == [("done",)]
    assert _holder(store, run_id) is None
