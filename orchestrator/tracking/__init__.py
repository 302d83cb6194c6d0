"""Optional tracking of every run in MLflow (``pip install promptfusion[mlflow]``).

The runner calls ``open_tracking`` once per run and feeds the returned tracker its events; without
a tracking URI (``tracking.mlflow_uri``, ``--mlflow`` or ``$MLFLOW_TRACKING_URI``) it gets
``NO_TRACKING`` and nothing of MLflow is imported. See ``orchestrator.tracking.tracker``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.tracking.record import LINK_EVENT, WARNING_EVENT, mlflow_link

__all__ = [
    "LINK_EVENT",
    "NO_TRACKING",
    "WARNING_EVENT",
    "link_line",
    "mlflow_link",
    "open_tracking",
    "tracking_uri",
    "with_tracking_uri",
]

EventCallback = Callable[[str, Mapping[str, Any]], None]


class _NoTracking:
    """Tracking off: events pass through untouched, closing does nothing."""

    mlflow_run_id = None

    def wrap(self, on_event: EventCallback | None) -> EventCallback | None:
        return on_event

    def close(self, result: Any | None) -> None:
        return None


NO_TRACKING = _NoTracking()


def tracking_uri(campaign: Any, environ: Mapping[str, str] | None = None) -> str | None:
    """Where the campaign's runs are tracked: ``tracking.mlflow_uri``, else ``$MLFLOW_TRACKING_URI``,
    else None (no tracking)."""
    env = os.environ if environ is None else environ
    return campaign.tracking.mlflow_uri or env.get("MLFLOW_TRACKING_URI") or None


def with_tracking_uri(campaign: Any, uri: str | None) -> Any:
    """``campaign`` tracked at ``uri`` (``--mlflow``), validated as the file's ``tracking`` section is.

    Raises:
        ConfigError: a URI the section refuses (credentials in it).
    """
    from pydantic import ValidationError

    from orchestrator.errors import ConfigError

    if not uri:
        return campaign
    try:
        tracking = type(campaign.tracking).model_validate(
            {**campaign.tracking.model_dump(), "mlflow_uri": uri}
        )
    except ValidationError as exc:
        raise ConfigError(f"--mlflow: {exc.errors()[0]['msg']}") from None
    return campaign.model_copy(update={"tracking": tracking})


def link_line(store: Any, run_id: str) -> str | None:
    """``mlflow run: ID (experiment E at URI)`` for a tracked run, else None."""
    link = mlflow_link(store, run_id)
    if link is None:
        return None
    return (
        f"mlflow run: {link['mlflow_run_id']} (experiment {link.get('experiment_id')} at {link.get('uri')})"
    )


def open_tracking(campaign: Any, store: Any, run_id: str, environ: Mapping[str, str] | None = None) -> Any:
    """The tracker of one run: a ``RunTracker`` when a tracking URI is set and MLflow is installed,
    else ``NO_TRACKING`` (MLflow missing: one warning line, the run goes on)."""
    uri = tracking_uri(campaign, environ)
    if uri is None:
        return NO_TRACKING
    if importlib.util.find_spec("mlflow") is None:
        print(
            f"warning: MLflow tracking ({uri}) needs mlflow: pip install 'promptfusion[mlflow]'; "
            "running without tracking",
            file=sys.stderr,
            flush=True,
        )
        return NO_TRACKING
    from orchestrator.tracking.tracker import RunTracker

    return RunTracker(store, run_id, campaign.name, campaign.resolved(), uri, campaign.tracking.experiment)
