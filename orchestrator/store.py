"""The run store: one SQLite file holding campaigns' runs, candidates, scores, LLM calls and events.

Writes are small and committed at once (WAL mode), so a run killed at any moment keeps everything it
had recorded. Nothing secret is stored: configs hold environment-variable names, never keys, and
LLM calls are recorded by role, model and usage, not by request headers.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from orchestrator.errors import RunNotFound, StoreError

__all__ = ["CallRecord", "RunStore", "RunSummary"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    seed INTEGER NOT NULL,
    config TEXT NOT NULL,
    result TEXT
);
CREATE TABLE IF NOT EXISTS candidates (
    run_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    iteration INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    origin TEXT NOT NULL,
    objective REAL,
    scores TEXT NOT NULL,
    per_task TEXT NOT NULL,
    accepted INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    PRIMARY KEY (run_id, stage, candidate_id)
);
CREATE TABLE IF NOT EXISTS llm_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    ts REAL NOT NULL,
    role TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL,
    latency_s REAL NOT NULL,
    cache_hit INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS llm_calls_run ON llm_calls (run_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
"""


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    name: str
    created: float
    updated: float
    status: str
    message: str | None
    seed: int


class CallRecord(Protocol):
    """One LLM call as the gateway's ledger saw it (``orchestrator.gateway.ledger.CallRecord``)."""

    role: str
    model: str
    kind: str
    cached: bool
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float
    error: str | None


def new_run_id() -> str:
    """A fresh run id: the start time and a random suffix (``20260101-120000-a1b2c3``)."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class RunStore:
    """SQLite-backed store of runs. Safe to share between threads of one process.

    Args:
        path: the SQLite file (created with its folder if missing).
        clock: seconds since the epoch; injectable for tests.
    """

    def __init__(self, path: str | Path, clock=time.time):
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as error:
            raise StoreError.wrap("run store", self.path, error) from error

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's errors (a full disk, a read-only file) become a
        ``StoreError`` that names the file, here at the store's boundary."""
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise StoreError.wrap("run store", self.path, error) from error

    # -- runs --------------------------------------------------------------------------------
    def create_run(self, name: str, config: Mapping[str, Any], seed: int, run_id: str | None = None) -> str:
        """Register a new run and return its id."""
        run_id = run_id or new_run_id()
        now = self._clock()
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (run_id, name, created, updated, status, seed, config)"
                " VALUES (?,?,?,?,?,?,?)",
                (run_id, name, now, now, "running", seed, json.dumps(config, sort_keys=True)),
            )
        return run_id

    def set_status(self, run_id: str, status: str, message: str | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status=?, message=?, updated=? WHERE run_id=?",
                (status, message, self._clock(), run_id),
            )

    def set_config(self, run_id: str, config: Mapping[str, Any]) -> None:
        """Replace a run's saved config (a resume with a corrected campaign file)."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET config=?, updated=? WHERE run_id=?",
                (json.dumps(config, sort_keys=True), self._clock(), run_id),
            )

    def set_result(self, run_id: str, result: Mapping[str, Any]) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET result=?, updated=? WHERE run_id=?",
                (json.dumps(result, sort_keys=True), self._clock(), run_id),
            )

    def run(self, run_id: str) -> RunSummary:
        """Raises RunNotFound for an unknown id."""
        row = self._one(
            "SELECT run_id,name,created,updated,status,message,seed FROM runs WHERE run_id=?", run_id
        )
        return RunSummary(*row)

    def config(self, run_id: str) -> dict[str, Any]:
        return json.loads(self._one("SELECT config FROM runs WHERE run_id=?", run_id)[0])

    def result(self, run_id: str) -> dict[str, Any] | None:
        raw = self._one("SELECT result FROM runs WHERE run_id=?", run_id)[0]
        return json.loads(raw) if raw else None

    def runs(self, limit: int = 50) -> list[RunSummary]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT run_id,name,created,updated,status,message,seed FROM runs"
                " ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [RunSummary(*row) for row in rows]

    def _one(self, sql: str, run_id: str) -> tuple:
        with self._lock:
            row = self._conn.execute(sql, (run_id,)).fetchone()
        if row is None:
            known = ", ".join(r.run_id for r in self.runs(5)) or "none"
            raise RunNotFound(f"no run {run_id!r} in {self.path} (latest: {known})")
        return row

    # -- candidates --------------------------------------------------------------------------
    def record_candidate(self, run_id: str, candidate: Mapping[str, Any]) -> None:
        """Insert or replace one scored candidate (as held in the graph's history)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO candidates (run_id, candidate_id, stage, iteration, prompt, origin,"
                " objective, scores, per_task, accepted, created) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    candidate["id"],
                    candidate["stage"],
                    candidate["iteration"],
                    candidate["prompt"],
                    candidate.get("origin", ""),
                    candidate.get("objective"),
                    json.dumps(candidate.get("scores", {}), sort_keys=True),
                    json.dumps(candidate.get("per_task", {}), sort_keys=True),
                    int(bool(candidate.get("accepted"))),
                    self._clock(),
                ),
            )

    def candidates(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT candidate_id, stage, iteration, prompt, origin, objective, scores, per_task, accepted"
                " FROM candidates WHERE run_id=? ORDER BY created, candidate_id",
                (run_id,),
            ).fetchall()
        return [
            {
                "id": r[0],
                "stage": r[1],
                "iteration": r[2],
                "prompt": r[3],
                "origin": r[4],
                "objective": r[5],
                "scores": json.loads(r[6]),
                "per_task": json.loads(r[7]),
                "accepted": bool(r[8]),
            }
            for r in rows
        ]

    # -- LLM calls ---------------------------------------------------------------------------
    def record_call(self, run_id: str, call: CallRecord) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO llm_calls (run_id, ts, role, model, kind, attempts, prompt_tokens,"
                " completion_tokens, cost_usd, latency_s, cache_hit, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    self._clock(),
                    call.role,
                    call.model,
                    call.kind,
                    call.attempts,
                    call.prompt_tokens,
                    call.completion_tokens,
                    call.cost_usd,
                    call.latency_s,
                    int(call.cached),
                    call.error,
                ),
            )

    def usage(self, run_id: str) -> dict[str, dict[str, float]]:
        """Totals per role: calls, cache_hits, prompt/completion tokens, cost_usd, latency_s."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT role, model, COUNT(*), SUM(cache_hit), SUM(prompt_tokens), SUM(completion_tokens),"
                " SUM(COALESCE(cost_usd, 0)), SUM(latency_s), SUM(error IS NOT NULL)"
                " FROM llm_calls WHERE run_id=? GROUP BY role, model ORDER BY role, model",
                (run_id,),
            ).fetchall()
        return {
            f"{role} ({model})": {
                "calls": calls,
                "cache_hits": hits or 0,
                "prompt_tokens": pt or 0,
                "completion_tokens": ct or 0,
                "cost_usd": cost or 0.0,
                "latency_s": lat or 0.0,
                "errors": errors or 0,
            }
            for role, model, calls, hits, pt, ct, cost, lat, errors in rows
        }

    def spent(self, run_id: str) -> tuple[int, int, float]:
        """(calls sent, tokens, USD) of a run, cache hits excluded: what its budget has used."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(prompt_tokens + completion_tokens), 0),"
                " COALESCE(SUM(cost_usd), 0) FROM llm_calls WHERE run_id=? AND cache_hit=0",
                (run_id,),
            ).fetchone()
        return int(row[0]), int(row[1]), float(row[2])

    def calls_over_time(self, run_id: str) -> list[tuple[float, int, int, float]]:
        """(ts, cache_hit, tokens, cost) per call, oldest first: for spend-over-time plots."""
        with self._lock:
            return self._conn.execute(
                "SELECT ts, cache_hit, prompt_tokens + completion_tokens, COALESCE(cost_usd, 0)"
                " FROM llm_calls WHERE run_id=? ORDER BY id",
                (run_id,),
            ).fetchall()

    # -- events ------------------------------------------------------------------------------
    def record_event(self, run_id: str, kind: str, payload: Mapping[str, Any] | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO events (run_id, ts, kind, payload) VALUES (?,?,?,?)",
                (run_id, self._clock(), kind, json.dumps(payload or {}, sort_keys=True, default=str)),
            )

    def events(self, run_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT ts, kind, payload FROM events WHERE run_id=?"
        args: tuple = (run_id,)
        if kind:
            sql += " AND kind=?"
            args += (kind,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        return [{"ts": ts, "kind": k, **json.loads(p)} for ts, k, p in rows]
