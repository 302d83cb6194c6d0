"""Hard limits of a run: calls, tokens, dollars, seconds, a stop file."""

from __future__ import annotations

from pydantic import Field

from orchestrator.config.strict import _Strict


class BudgetConfig(_Strict):
    """Hard limits; the run stops cleanly, resumable, with the best prompt so far, when one is reached.
    The search keeps the calls its end needs (finalists' confirmation, held-out test) out of
    exploration, so a call budget normally ends the run ``done`` with a tested winner."""

    max_calls: int | None = Field(None, ge=1, description="Most LLM calls (cache hits are free).")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens, prompt plus completion.")
    max_usd: float | None = Field(None, gt=0, description="Most spend in US dollars.")
    allow_unpriced: bool = Field(
        False, description="Allow max_usd with a model of unknown price (its calls count as $0)."
    )
    max_seconds: float | None = Field(None, gt=0, description="Wall-clock limit of one run or resume.")
    stop_file: str | None = Field(None, description="Stop the run once this file exists.")
