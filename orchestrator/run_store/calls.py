"""The LLM call ledger: one row per call (role, model, usage, cost), never a request or a key."""

from __future__ import annotations

from typing import Protocol

from orchestrator.run_store.database import Database

__all__ = ["CallRecord", "Calls"]


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


class Calls(Database):
    """The llm_calls table: what a run has spent, and when."""

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
