"""The run store's SQLite file: its schema, one connection shared by threads, short transactions.

Writes are small and committed at once (WAL mode), so a run killed at any moment keeps everything it
had recorded.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.errors import RunNotFound, StoreError
from orchestrator.sqlite_tx import write_transaction

__all__ = ["Database"]

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
    payload TEXT NOT NULL,
    key TEXT
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
"""

# Stores written before events were keyed gain the column; NULL keys never collide.
_EVENT_KEY = """
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events (run_id, key);
"""


class Database:
    """The connection, lock and clock every room of the store shares.

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
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(events)")}
            if "key" not in columns:
                self._conn.execute("ALTER TABLE events ADD COLUMN key TEXT")
            self._conn.executescript(_EVENT_KEY)
        except (sqlite3.Error, OSError) as error:
            raise StoreError.wrap("run store", self.path, error) from error

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's errors (a full disk, a read-only file) become a
        ``StoreError`` that names the file, here at the store's boundary."""
        with self._lock, write_transaction(self._conn, "run store", self.path) as conn:
            yield conn

    def _one(self, sql: str, run_id: str) -> tuple:
        with self._lock:
            row = self._conn.execute(sql, (run_id,)).fetchone()
        if row is None:
            known = ", ".join(r[0] for r in self._latest(5)) or "none"
            raise RunNotFound(f"no run {run_id!r} in {self.path} (latest: {known})")
        return row

    def _latest(self, limit: int) -> list[tuple]:
        with self._lock:
            return self._conn.execute(
                "SELECT run_id FROM runs ORDER BY created DESC LIMIT ?", (limit,)
            ).fetchall()
