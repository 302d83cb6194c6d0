"""One SQLite write transaction whose errors name the file: shared by the run store and the response
cache, the two writers of the project's SQLite files."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from orchestrator.errors import StoreError

__all__ = ["write_transaction"]


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, what: str, path: Path) -> Iterator[sqlite3.Connection]:
    """``BEGIN`` ... ``COMMIT`` on ``conn`` (rolled back when the body raises); SQLite's errors (a full
    disk, a read-only file) become a ``StoreError`` naming ``what`` and ``path``. The caller holds the
    connection's lock.

    Raises:
        StoreError: the transaction could not be written.
    """
    try:
        conn.execute("BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as error:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise StoreError.wrap(what, path, error) from error
