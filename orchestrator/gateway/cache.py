"""A content-addressed response cache in SQLite: request sha256 -> answer.

Cost on the event loop matters here (the gateway's whole budget is ~0.1 ms per call), so:

* one connection, opened once and reused, in WAL mode with ``synchronous=NORMAL`` (commits append to
  the write-ahead log without an fsync); lookups run inline (~5 us: a thread hop would cost more);
* writes are buffered and committed together ``flush_interval`` (20 ms) after the first of a batch,
  one transaction per batch: a commit costs far more than a row (measured inside the benchmark:
  ~170 us of CPU per call when committing every loop iteration, ~65 us with 20 ms batches). Until
  then rows sit in memory and lookups see them, so nothing is fetched twice; ``close`` (and
  ``flush``) commit at once. A process killed outright loses at most the last 20 ms of answers,
  which are then simply fetched again;
* SQLite's automatic checkpoint (copying the log into the database, with an fsync) would stall a
  commit now and then (measured: 16 ms every ~2,000 writes), so it is off, and a short-lived thread
  with its own connection checkpoints every ``checkpoint_every`` rows, off the event loop.

Entries that fail to decode are deleted and reported as misses, so the call is simply made again.
The database holds the canonical request and the answer, never an API key or a base URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TypeVar

from orchestrator.backends.base import Completion, LabelScores
from orchestrator.errors import StoreError
from orchestrator.gateway.codec import (
    CorruptEntry,
    completion_from_json,
    completion_to_json,
    scores_from_json,
    scores_to_json,
)
from orchestrator.sqlite_tx import write_transaction

__all__ = ["CacheStats", "ResponseCache"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# A rowid table with a unique index on the key, not a WITHOUT ROWID table keyed by the hash: rows
# are ~1 KB, and random-key inserts into a clustered index rewrite a random page each (measured: 67
# against 25 us of CPU per row, and a database 3x larger).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    model    TEXT NOT NULL,
    request  TEXT NOT NULL,
    response TEXT NOT NULL,
    created  REAL NOT NULL
)
"""
_INSERT = (
    "INSERT OR REPLACE INTO responses (key, kind, model, request, response, created)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_Row = tuple[str, str, str, str, str, float]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: int = 0


class ResponseCache:
    """SQLite-backed cache of completions and label scores, keyed by ``request_key``.

    Close it (or use it as a context manager) when done: that commits the last batch of writes.

    Args:
        path: database file (created with its parent folder); ``":memory:"`` for a throwaway cache.
        checkpoint_every: rows written between background WAL checkpoints.
        flush_interval: seconds a batch of writes waits for company before it is committed.
        max_pending: rows buffered before a batch is committed at once.

    Raises:
        sqlite3.DatabaseError: the file exists but is not a usable SQLite database (the message
            names the path).
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        checkpoint_every: int = 500,
        flush_interval: float = 0.02,
        max_pending: int = 256,
    ):
        self.path = str(path)
        self._on_disk = self.path != ":memory:"
        if self._on_disk:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.stats = CacheStats()
        self._checkpoint_every = checkpoint_every
        self._max_pending = max_pending
        self._flush_interval = flush_interval
        self._rows_since_checkpoint = 0
        self._checkpointer: threading.Thread | None = None
        self._pending: dict[str, _Row] = {}
        self._flush_loop: asyncio.AbstractEventLoop | None = None
        self._write_error: StoreError | None = None
        # Used from the event-loop thread, but LangGraph may run sync nodes on worker threads: the
        # lock makes the shared connection safe there too (uncontended, it costs ~0.1 us).
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
            self._conn.execute(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise sqlite3.DatabaseError(f"response cache {self.path}: {error}") from error

    # ------------------------------------------------------------------------------ completions
    def get_completion(self, key: str) -> Completion | None:
        """The cached completion for ``key`` (with ``cached=True``), or None."""
        return self._get(key, completion_from_json)

    def put_completion(self, key: str, request_json: str, completion: Completion) -> None:
        self._put(
            (key, "complete", completion.model, request_json, completion_to_json(completion), time.time())
        )

    # ----------------------------------------------------------------------------- label scores
    def get_scores(self, key: str) -> LabelScores | None:
        """The cached label scores for ``key`` (with ``cached=True``), or None."""
        return self._get(key, scores_from_json)

    def put_scores(self, key: str, model: str, request_json: str, scores: LabelScores) -> None:
        self._put((key, "score_labels", model, request_json, scores_to_json(scores), time.time()))

    # ---------------------------------------------------------------------------------- general
    def count(self) -> int:
        """Number of stored entries (pending writes included)."""
        self.flush()
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def flush(self) -> None:
        """Commit the buffered writes now (otherwise the event loop does, ``flush_interval`` later).

        Raises:
            StoreError: the file cannot be written (a full disk, a read-only folder); names the path.
        """
        with self._lock:
            if self._write_error is not None:
                raise self._write_error
            if not self._pending:
                return
            rows = list(self._pending.values())
            with write_transaction(self._conn, "response cache", self.path) as conn:
                conn.executemany(_INSERT, rows)
            self._pending.clear()
        self.stats.writes += len(rows)
        self._rows_since_checkpoint += len(rows)
        if self._on_disk and self._rows_since_checkpoint >= self._checkpoint_every:
            self._start_checkpoint()

    def close(self) -> None:
        """Commit pending writes, fold the write-ahead log into the database file, close.

        Raises:
            StoreError: the last writes could not be committed (the connection is closed anyway).
        """
        try:
            self.flush()
        finally:
            if self._checkpointer is not None:
                self._checkpointer.join()
            with self._lock:
                if self._on_disk and self._write_error is None:
                    with contextlib.suppress(sqlite3.Error):  # folding the log is housekeeping
                        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._conn.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -------------------------------------------------------------------------------- internals
    def _get(self, key: str, decode: Callable[[str], T]) -> T | None:
        pending = self._pending.get(key)
        if pending is not None:
            text = pending[4]
        else:
            with self._lock:
                row = self._conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.stats.misses += 1
                return None
            text = row[0]
        try:
            value = decode(text)
        except CorruptEntry as error:
            self.stats.corrupt += 1
            self.stats.misses += 1
            log.warning("response cache %s: discarding corrupt entry %s (%s)", self.path, key[:16], error)
            with self._lock:
                self._pending.pop(key, None)
                self._conn.execute("DELETE FROM responses WHERE key = ?", (key,))
            return None
        self.stats.hits += 1
        return value

    def _put(self, row: _Row) -> None:
        if self._write_error is not None:
            raise self._write_error
        with self._lock:
            self._pending[row[0]] = row
            if len(self._pending) >= self._max_pending:
                self.flush()
                return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in an event loop: nothing will come back to commit later
            self.flush()
            return
        if self._flush_loop is not loop:
            self._flush_loop = loop
            loop.call_later(self._flush_interval, self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_loop = None
        try:
            self.flush()
        except StoreError as error:  # an event-loop callback: kept for the next write to raise
            self._write_error = error

    def _start_checkpoint(self) -> None:
        if self._checkpointer is not None and self._checkpointer.is_alive():
            return  # one at a time; the next batch past the threshold tries again
        self._rows_since_checkpoint = 0
        self._checkpointer = threading.Thread(target=self._checkpoint, name="cache-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint(self) -> None:
        # PASSIVE never waits for the writer: the event loop's commits go on meanwhile.
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()
        except sqlite3.Error as error:  # a missed checkpoint only lets the log grow until the next one
            log.warning("response cache %s: background checkpoint failed: %s", self.path, error)
