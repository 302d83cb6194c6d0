"""Runs: one row per run, with its config, status and final result."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.run_store.database import Database

__all__ = ["RunSummary", "Runs", "new_run_id"]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    name: str
    created: float
    updated: float
    status: str
    message: str | None
    seed: int


def new_run_id() -> str:
    """A fresh run id: the start time and a random suffix (``20260101-120000-a1b2c3``)."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class Runs(Database):
    """The runs table."""

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
