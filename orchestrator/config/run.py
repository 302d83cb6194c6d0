"""Where results go and how a run is seeded."""

from __future__ import annotations

from pydantic import Field

from orchestrator.config.strict import _Strict
from orchestrator.store_location import store_path


def _default_store() -> str:
    # The one store-path rule (``store_location``): a campaign that names no store uses the same
    # store as ``runs``/``show``/``report``: ``$PROMPTFUSION_STORE``, else runs/promptfusion.sqlite.
    return str(store_path())


class RunConfig(_Strict):
    """Where results go and how the run is seeded."""

    store: str = Field(
        default_factory=_default_store,
        description="SQLite run store, relative to the cwd (default: $PROMPTFUSION_STORE, else "
        "runs/promptfusion.sqlite).",
    )
    cache: str = Field("runs/llm-cache.sqlite", description="SQLite response cache (relative to the cwd).")
    seed: int = Field(0, description="Seeds splits, sampling and every random choice.")
