"""One campaign run mirrored as one MLflow run, through ``MlflowClient`` (no global active run).

Imported only when tracking is on (the ``mlflow`` extra). Every method may raise: the caller
(``orchestrator.tracking.tracker``) runs them on its worker thread and stops tracking at the first
failure.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.tracking.metrics import flatten_params

__all__ = ["MLFLOW_ENV_DEFAULTS", "MlflowRun", "status_of"]

# MLflow retries a failed request 7 times with exponential backoff and waits 120 s for an answer by
# default: minutes per call against a dead server. Tracking is a mirror, so it fails fast instead,
# and MLflow's INFO lines stay out of the campaign's display. A value set in the environment wins.
MLFLOW_ENV_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",  # `show` prints the run id; stdout is the display's
}
_BATCH = 100  # MLflow's limit of params (and tags) per log_batch; metrics allow 1000
_RUN_STATUS = {"done": "FINISHED", "failed": "FAILED"}  # stopped or interrupted: KILLED, resumable


def status_of(our_status: str) -> str:
    """Our run status as an MLflow run status."""
    return _RUN_STATUS.get(our_status, "KILLED")


class MlflowRun:
    """The MLflow side of one run of ours.

    Args:
        uri: the tracking URI.
        experiment: the experiment's name (created when missing).
    """

    def __init__(self, uri: str, experiment: str):
        for name, value in MLFLOW_ENV_DEFAULTS.items():
            os.environ.setdefault(name, value)
        from mlflow import MlflowClient

        self.uri = uri
        self.experiment = experiment
        self.client = MlflowClient(tracking_uri=uri)
        self.run_id: str | None = None
        self.experiment_id: str | None = None

    def start(self, our_run_id: str, name: str, config: Mapping[str, Any]) -> str:
        """Create the MLflow run with the resolved config as params; returns its id."""
        self.experiment_id = self._experiment_id()
        tags = {"promptfusion.run_id": our_run_id, "promptfusion.campaign": name}
        run = self.client.create_run(self.experiment_id, tags=tags, run_name=our_run_id)
        self.run_id = run.info.run_id
        self._log_params(flatten_params(config))
        return self.run_id

    def resume(self, mlflow_run_id: str, config: Mapping[str, Any]) -> None:
        """Continue an existing MLflow run: mark it running; settings the resume changed (a budget,
        a model) become ``changed.<param>`` tags, since MLflow params cannot change."""
        run = self.client.get_run(mlflow_run_id)
        self.run_id, self.experiment_id = mlflow_run_id, run.info.experiment_id
        self.client.update_run(mlflow_run_id, status="RUNNING")
        logged = run.data.params
        params = flatten_params(config)
        self._log_params({k: v for k, v in params.items() if k not in logged})
        changed = {f"changed.{k}": v for k, v in params.items() if k in logged and logged[k] != v}
        self._log_tags(changed)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(key, value, now, step) for key, value in metrics.items()]
        for i in range(0, len(batch), 1000):
            self.client.log_batch(self.run_id, metrics=batch[i : i + 1000])

    def log_text(self, text: str, artifact_file: str) -> None:
        self.client.log_text(self.run_id, text, artifact_file)

    def log_files(self, folder: Path, artifact_path: str, suffixes: tuple[str, ...]) -> int:
        """Upload the files under ``folder`` ending in ``suffixes``, keeping their relative paths."""
        count = 0
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in suffixes:
                relative = path.parent.relative_to(folder).as_posix()
                where = artifact_path if relative == "." else f"{artifact_path}/{relative}"
                self.client.log_artifact(self.run_id, str(path), where)
                count += 1
        return count

    def register_prompt(self, name: str, prompt: str, tags: Mapping[str, str]) -> str | None:
        """Register ``prompt`` as a new version of ``name`` in the prompt registry and tag the run
        with it; returns ``"prompts:/name/version"``, or None when the store has no prompt registry
        (a file store), which is not a tracking failure."""
        from mlflow.exceptions import MlflowException

        safe = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-") or "promptfusion"
        try:
            message = f"promptfusion run {tags.get('promptfusion.run_id')}"
            version = self.client.register_prompt(safe, prompt, commit_message=message, tags=dict(tags))
        except MlflowException as exc:
            if _no_registry(exc):
                self._log_tags({"promptfusion.prompt_registry": f"unavailable: {str(exc).splitlines()[0]}"})
                return None
            raise
        # A tag, not ``link_prompt_version_to_run``: that looks the run up in the process's global
        # tracking URI, not in this client's (mlflow 3.17: "Run with id=... not found").
        uri = f"prompts:/{version.name}/{version.version}"
        self._log_tags({"promptfusion.prompt": uri})
        return uri

    def finish(self, our_status: str) -> None:
        self.client.set_terminated(self.run_id, status=status_of(our_status))

    def _experiment_id(self) -> str:
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(self.experiment)
        except MlflowException:  # another process created it in between
            found = self.client.get_experiment_by_name(self.experiment)
            if found is None:
                raise
            return found.experiment_id

    def _log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(key, value) for key, value in params.items()]
        for i in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, params=items[i : i + _BATCH])

    def _log_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(key, value) for key, value in tags.items()]
        for i in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, tags=items[i : i + _BATCH])


def _no_registry(exc: Exception) -> bool:
    """Whether a failed registration means "this store has no prompt registry" (not an outage)."""
    text = str(exc).lower()
    hints = ("not supported", "does not support", "unsupported", "filestore", "not implemented")
    return any(hint in text for hint in hints)
