"""The link from a run in our store to its MLflow run, kept as an event of the run (no MLflow import)."""

from __future__ import annotations

from typing import Any

from orchestrator.store import RunStore

__all__ = ["LINK_EVENT", "WARNING_EVENT", "mlflow_link"]

#: Event recorded once the MLflow run exists: ``{"mlflow_run_id", "experiment_id", "uri"}``.
LINK_EVENT = "mlflow"
#: Event recorded when tracking stopped for this process: ``{"warning": "..."}``.
WARNING_EVENT = "mlflow_warning"


def mlflow_link(store: RunStore, run_id: str) -> dict[str, Any] | None:
    """The MLflow run a run of ours is mirrored to (the latest link), or None when it was never tracked."""
    links = store.events(run_id, LINK_EVENT)
    return links[-1] if links else None
