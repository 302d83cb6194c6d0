"""Where results go and how a run is seeded."""

from __future__ import annotations

from pydantic import Field

from orchestrator.config.strict import _Strict


class RunConfig(_Strict):
    """Where results go and how the run is seeded."""

    store: str = Field("runs/promptfusion.sqlite", description="SQLite run store (relative to the cwd).")
    cache: str = Field("runs/llm-cache.sqlite", description="SQLite response cache (relative to the cwd).")
    seed: int = Field(0, description="Seeds splits, sampling and every random choice.")
