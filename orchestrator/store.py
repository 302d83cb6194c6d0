"""The run store: one SQLite file holding campaigns' runs, candidates, scores, LLM calls and events.

Writes are small and committed at once (WAL mode), so a run killed at any moment keeps everything it
had recorded. Nothing secret is stored: configs hold environment-variable names, never keys, and
LLM calls are recorded by role, model and usage, not by request headers.
"""

from __future__ import annotations

from orchestrator.run_store.calls import CallRecord, Calls
from orchestrator.run_store.candidates import Candidates
from orchestrator.run_store.events import Events
from orchestrator.run_store.runs import Runs, RunSummary, new_run_id

__all__ = ["CallRecord", "RunStore", "RunSummary", "new_run_id"]


class RunStore(Runs, Candidates, Calls, Events):
    """SQLite-backed store of runs. Safe to share between threads of one process.

    One connection (``orchestrator.run_store.database.Database``) under four rooms, each in its own
    module with its own SQL: ``Runs``, ``Candidates``, ``Calls`` (the LLM ledger) and ``Events``.

    Args:
        path: the SQLite file (created with its folder if missing).
        clock: seconds since the epoch; injectable for tests.
    """
