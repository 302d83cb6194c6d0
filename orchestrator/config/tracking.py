"""Where a campaign's runs are mirrored for tracking (MLflow); the run store stays the source of truth."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from orchestrator.config.strict import _Strict


class TrackingConfig(_Strict):
    """MLflow tracking of every run of the campaign (needs ``pip install promptfusion[mlflow]``)."""

    mlflow_uri: str | None = Field(
        None,
        description=(
            "MLflow tracking URI (http://host:5000, file:///path/mlruns, sqlite:///mlflow.db); "
            "None: $MLFLOW_TRACKING_URI when set, else no tracking."
        ),
    )
    experiment: str = Field("promptfusion", min_length=1, description="MLflow experiment the runs go to.")

    @field_validator("mlflow_uri")
    @classmethod
    def _no_credentials(cls, uri: str | None) -> str | None:
        # The resolved config is saved with every run and logged as MLflow params: no secrets in it.
        if uri and "@" in (urlsplit(uri).netloc or ""):
            raise ValueError(
                "credentials in the URI are saved with the run; "
                "set MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) instead"
            )
        return uri or None
