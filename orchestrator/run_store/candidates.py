"""Scored candidates, keyed by run, stage and candidate id: a replayed node replaces, never duplicates."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orchestrator.run_store.database import Database

__all__ = ["Candidates"]


class Candidates(Database):
    """The candidates table."""

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
