"""The event log: what happened during a run, in order; events keyed by a graph node are written once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orchestrator.run_store.database import Database

__all__ = ["Events"]


class Events(Database):
    """The events table."""

    def record_event(
        self, run_id: str, kind: str, payload: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> bool:
        """Append an event; one with the ``key`` of an event already recorded for the run is dropped.

        Graph nodes key their events (step, node, order): a node replayed after a crash writes nothing
        twice. Returns whether the event was written.
        """
        with self._tx() as db:
            written = db.execute(
                "INSERT OR IGNORE INTO events (run_id, ts, kind, payload, key) VALUES (?,?,?,?,?)",
                (run_id, self._clock(), kind, json.dumps(payload or {}, sort_keys=True, default=str), key),
            )
        return written.rowcount == 1

    def events(self, run_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT ts, kind, payload FROM events WHERE run_id=?"
        args: tuple = (run_id,)
        if kind:
            sql += " AND kind=?"
            args += (kind,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        return [{"ts": ts, "kind": k, **json.loads(p)} for ts, k, p in rows]
