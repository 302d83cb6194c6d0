"""Run store on real SQLite: records survive a reopen, unknown runs give a clear error."""

from __future__ import annotations

import pytest

from orchestrator.errors import RunNotFound
from orchestrator.gateway.ledger import CallRecord
from orchestrator.store import RunStore


def _call(cached: bool) -> CallRecord:
    return CallRecord(
        role="scorer",
        model="local/x",
        kind="complete",
        key="k",
        cached=cached,
        attempts=0 if cached else 1,
        prompt_tokens=10,
        completion_tokens=2,
        cost_usd=None,
        latency_s=0.1,
        error=None,
        started_at=0.0,
    )


def test_records_survive_reopen(tmp_path):
    path = tmp_path / "runs" / "store.sqlite"
    store = RunStore(path)
    run_id = store.create_run("demo", {"run": {"seed": 3}}, seed=3)
    store.record_candidate(
        run_id,
        {
            "id": "abc",
            "stage": "source",
            "iteration": 0,
            "prompt": "P",
            "objective": 0.5,
            "scores": {"accuracy": 0.5},
        },
    )
    store.record_call(run_id, _call(cached=False))
    store.record_call(run_id, _call(cached=True))
    store.record_event(run_id, "stage", {"stage": "source"})
    store.set_status(run_id, "done", "finished")
    store.close()

    reopened = RunStore(path)
    summary = reopened.run(run_id)
    assert (summary.status, summary.message, summary.seed) == ("done", "finished", 3)
    assert reopened.config(run_id) == {"run": {"seed": 3}}
    assert reopened.candidates(run_id)[0]["scores"] == {"accuracy": 0.5}
    usage = reopened.usage(run_id)["scorer (local/x)"]
    assert usage["calls"] == 2 and usage["cache_hits"] == 1 and usage["prompt_tokens"] == 20
    assert reopened.spent(run_id) == (1, 12, 0.0)
    assert reopened.events(run_id, "stage")[0]["stage"] == "source"


def test_unknown_run_is_named(tmp_path):
    store = RunStore(tmp_path / "s.sqlite")
    store.create_run("a", {}, seed=0, run_id="known-run")
    with pytest.raises(RunNotFound, match="no run 'nope'.*known-run"):
        store.run("nope")


def test_a_keyed_event_is_written_once_an_unkeyed_one_each_time(tmp_path):
    store = RunStore(tmp_path / "s.sqlite")
    run_id = store.create_run("r", {}, seed=0)
    assert store.record_event(run_id, "selected", {"best": 1}, key="7/select/1")
    assert not store.record_event(run_id, "selected", {"best": 1}, key="7/select/1")  # the node replayed
    assert store.record_event(run_id, "selected", {"best": 2}, key="9/select/1")
    store.record_event(run_id, "scoring", {"mode": "generate"})
    store.record_event(run_id, "scoring", {"mode": "generate"})
    assert [e["kind"] for e in store.events(run_id)] == ["selected", "selected", "scoring", "scoring"]
    other = store.create_run("r2", {}, seed=0)
    assert store.record_event(other, "selected", {"best": 1}, key="7/select/1")  # keys are per run
    store.close()


def test_a_store_from_before_event_keys_gains_them(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts REAL NOT NULL,"
        " kind TEXT NOT NULL, payload TEXT NOT NULL);"
        "INSERT INTO events (run_id, ts, kind, payload) VALUES ('old', 1.0, 'stage', '{}');"
    )
    old.commit()
    old.close()
    store = RunStore(path)
    assert store.record_event("old", "selected", {}, key="1/select/1")
    assert not store.record_event("old", "selected", {}, key="1/select/1")
    assert [e["kind"] for e in store.events("old")] == ["stage", "selected"]
    store.close()
