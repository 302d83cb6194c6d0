"""One writer per run: a lease row in the run store, held while a process executes the run.

Two processes resuming the same run at once would both spend, both write history rows and could pick
different winners. ``RunLease.acquire`` takes the run's row in the ``leases`` table inside a
``BEGIN IMMEDIATE`` transaction (so two processes cannot both see it free), and a daemon thread
renews its heartbeat. A lease is taken over when its heartbeat is older than ``stale_after`` seconds
(a holder on another machine that died), or at once when its holder ran on this host and that process
no longer exists (``kill -9``). The lease table lives in the same SQLite file as the runs it guards.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import RunLocked, StoreError

__all__ = ["DEFAULT_STALE_AFTER", "LeaseHolder", "RunLease"]

# A heartbeat every third of this; a holder silent for this long is presumed dead.
DEFAULT_STALE_AFTER = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    run_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired REAL NOT NULL,
    heartbeat REAL NOT NULL
);
"""


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a run's lease, and when it last said it was alive (seconds since the epoch)."""

    pid: int
    host: str
    heartbeat: float


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class RunLease:
    """The lease on one run; use ``RunLease.acquire(...)`` as a context manager.

    Args:
        store_path: the run store's SQLite file.
        run_id: the run to hold.
        stale_after: seconds without a heartbeat after which another process may take the lease.
        clock: seconds since the epoch (injectable for tests).
        pid, host: this holder's identity (default: this process).
    """

    def __init__(
        self,
        store_path: str | Path,
        run_id: str,
        *,
        stale_after: float = DEFAULT_STALE_AFTER,
        clock: Callable[[], float] = time.time,
        pid: int | None = None,
        host: str | None = None,
    ):
        if stale_after <= 0:
            raise ValueError(f"stale_after must be > 0, got {stale_after}")
        self.path = Path(store_path)
        self.run_id = run_id
        self.stale_after = stale_after
        self.pid = os.getpid() if pid is None else pid
        self.host = socket.gethostname() if host is None else host
        self.token = uuid.uuid4().hex
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(cls, store_path: str | Path, run_id: str, **kwargs) -> RunLease:
        """Take the lease (see ``take``) and start the heartbeat; release with ``release`` or ``with``."""
        lease = cls(store_path, run_id, **kwargs)
        lease.take()
        lease.start_heartbeat()
        return lease

    def __enter__(self) -> RunLease:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        try:
            self.release()
        except StoreError:
            if exc_type is None:
                raise
            # Already failing (a full disk, most likely): that error is the one to show; a lease
            # left behind goes stale once this process has exited, and another may take it then.

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        conn.executescript(_SCHEMA)
        return conn

    def holder(self) -> LeaseHolder | None:
        """The current holder of the run's lease, or None."""
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT pid, host, heartbeat FROM leases WHERE run_id=?", (self.run_id,)
            ).fetchone()
        finally:
            conn.close()
        return LeaseHolder(*row) if row else None

    def take(self) -> None:
        """Take the lease, or take over a dead holder's.

        Raises:
            RunLocked: a live process holds it (the message names its pid and host).
        """
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT pid, host, heartbeat, token FROM leases WHERE run_id=?", (self.run_id,)
                ).fetchone()
                now = self._clock()
                if row is not None and row[3] != self.token and self._alive(LeaseHolder(*row[:3]), now):
                    pid, host, heartbeat = row[:3]
                    raise RunLocked(
                        f"run {self.run_id} is already being run by pid {pid} on {host} "
                        f"(heartbeat {max(0.0, now - heartbeat):.0f} s ago); wait for it to finish or stop it"
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO leases (run_id, token, pid, host, acquired, heartbeat)"
                    " VALUES (?,?,?,?,?,?)",
                    (self.run_id, self.token, self.pid, self.host, now, now),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _alive(self, holder: LeaseHolder, now: float) -> bool:
        if now - holder.heartbeat > self.stale_after:
            return False
        if holder.host == self.host:
            # Same machine: no need to wait for staleness when the holder process is gone.
            return _pid_alive(holder.pid)
        return True

    def beat(self) -> bool:
        """Renew the heartbeat; False when the lease is no longer ours (taken over after going stale)."""
        conn = self._connect()
        try:
            cursor = conn.execute(
                "UPDATE leases SET heartbeat=? WHERE run_id=? AND token=?",
                (self._clock(), self.run_id, self.token),
            )
            return cursor.rowcount == 1
        finally:
            conn.close()

    def start_heartbeat(self) -> None:
        # A thread, not an asyncio task: a busy event loop (or a local model hogging the CPU between
        # awaits) must not make a live holder look dead.
        interval = self.stale_after / 3

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    if not self.beat():
                        return
                except sqlite3.Error:
                    continue  # a busy database: try again next beat, well before staleness

        self._thread = threading.Thread(target=loop, name=f"lease-{self.run_id}", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop the heartbeat and drop the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            conn = self._connect()
            try:
                conn.execute("DELETE FROM leases WHERE run_id=? AND token=?", (self.run_id, self.token))
            finally:
                conn.close()
        except sqlite3.Error as error:
            raise StoreError.wrap("run store", self.path, error) from error
