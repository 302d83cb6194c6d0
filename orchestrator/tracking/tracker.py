"""The runner's hook: every event of a run passes through ``RunTracker.wrap``; rounds become MLflow
metrics, the end of the run becomes the final metrics, the winner, the report and the soft prompts.

All MLflow work happens on a ``TrackingWorker`` thread. The campaign thread only reads its own store
(the spend so far) and enqueues, so a dead, slow or failing server costs it nothing; the first
failure prints one warning line and tracking stops for this process. The run store stays the
source of truth: a resume continues the same MLflow run (its id is an event of our run).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from orchestrator.store import RunStore
from orchestrator.tracking.metrics import final_metrics, round_metrics
from orchestrator.tracking.record import LINK_EVENT, WARNING_EVENT, mlflow_link
from orchestrator.tracking.worker import TrackingWorker

__all__ = ["PROBE_TIMEOUT", "RunTracker", "probe_server"]

EventCallback = Callable[[str, Mapping[str, Any]], None]
SOFT_SUFFIXES = (".safetensors", ".json")
#: Seconds a tracking server has to answer its health check before tracking gives up on it.
PROBE_TIMEOUT = 3.0


def probe_server(uri: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Raise ``ConnectionError`` when an ``http(s)://`` tracking server does not answer ``/health``.

    MLflow's own first request would wait its full timeout twice (retries) on a server that accepts
    connections and never answers; a run shorter than that would wait for it at its end. Any HTTP
    answer (401 from an auth proxy, say) counts as alive; other URIs (files, databases) are not probed.
    """
    import socket
    import urllib.error
    import urllib.request

    if not uri.startswith(("http://", "https://")):
        return
    try:
        urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout).close()
    except urllib.error.HTTPError:
        return  # it answered
    except OSError as exc:  # URLError too; TLS trouble is left to MLflow's own settings
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, ConnectionError, socket.gaierror)):
            raise ConnectionError(f"no answer from {uri}/health within {timeout:.0f} s: {reason}") from exc


class RunTracker:
    """Mirrors one run of ours (``run_id`` in ``store``) to one MLflow run.

    Args:
        store: the run store (read for spend and the MLflow link; the link is written to it).
        run_id: our run.
        name: the campaign's name (the MLflow prompt-registry entry is named after it).
        config: the resolved config (logged as params).
        uri, experiment: where to track.
        close_timeout: how long the end of the run waits for the uploads to finish.
        warn_to: where the one warning line goes.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        name: str,
        config: Mapping[str, Any],
        uri: str,
        experiment: str,
        *,
        close_timeout: float = 60.0,
        warn_to: IO[str] | None = None,
    ):
        self._store, self._run_id, self._name, self._config = store, run_id, name, dict(config)
        self.uri, self._experiment = uri, experiment
        self._close_timeout = close_timeout
        self._warn_to = warn_to
        self._abandoned = False
        self._mlflow: Any = None
        self._rounds = len(store.events(run_id, "selected"))  # a resume continues the steps
        self._worker = TrackingWorker(self._warn)
        link = mlflow_link(store, run_id)
        self._worker.submit(lambda: self._open(link))

    @property
    def mlflow_run_id(self) -> str | None:
        return None if self._mlflow is None else self._mlflow.run_id

    def wrap(self, on_event: EventCallback | None) -> EventCallback:
        """``on_event``, also feeding this tracker."""

        def both(kind: str, payload: Mapping[str, Any]) -> None:
            if on_event is not None:
                on_event(kind, payload)
            self.observe(kind, payload)

        return both

    def observe(self, kind: str, payload: Mapping[str, Any]) -> None:
        """One event of the run (called from whichever thread runs the graph node)."""
        if kind != "selected" or self._worker.failed is not None:
            return
        self._rounds += 1
        metrics = round_metrics(payload, self._store.spent(self._run_id))
        step = self._rounds
        self._worker.submit(lambda: self._mlflow.log_metrics(metrics, step))

    def close(self, result: Any | None) -> None:
        """The run ended (``result``: its ``RunResult``; None when it raised): log the end, wait for
        the uploads at most ``close_timeout`` seconds."""
        if self._worker.failed is None:
            try:
                calls, tokens, usd = self._store.spent(self._run_id)
                status = result.status if result is not None else self._store.run(self._run_id).status
            except Exception as exc:  # noqa: BLE001 - runs in the runner's `finally`: never mask its outcome
                self._worker.failed = exc
                self._warn(exc)
            else:
                totals = {"total.calls": float(calls), "total.tokens": float(tokens), "total.usd": usd}
                self._worker.submit(lambda: self._finish(result, status, totals))
        if not self._worker.close(self._close_timeout):
            self._abandoned = True
            self._print(
                f"warning: MLflow tracking ({self.uri}): uploads unfinished after "
                f"{self._close_timeout:.0f} s, left behind; the run store has everything"
            )

    def _open(self, link: Mapping[str, Any] | None) -> None:
        from orchestrator.tracking.mlflow_run import MlflowRun

        probe_server(self.uri)  # a dead or hung server: known in seconds, and MLflow is never imported
        self._mlflow = MlflowRun(self.uri, self._experiment)
        if link and link.get("uri") == self.uri:
            self._mlflow.resume(link["mlflow_run_id"], self._config)
            return
        mlflow_run_id = self._mlflow.start(self._run_id, self._name, self._config)
        link = {"mlflow_run_id": mlflow_run_id, "experiment_id": self._mlflow.experiment_id, "uri": self.uri}
        self._store.record_event(self._run_id, LINK_EVENT, link)

    def _finish(self, result: Any | None, status: str, totals: Mapping[str, float]) -> None:
        run = self._mlflow
        metrics = dict(totals)
        if result is not None:
            metrics.update(final_metrics(result.final, result.soft))
        run.log_metrics(metrics, self._rounds)
        answer = result.answer if result is not None else None
        if answer and answer.get("prompt"):
            run.log_text(answer["prompt"], "winner/prompt.txt")
            run.log_text(json.dumps(answer, indent=2, sort_keys=True, default=str), "winner/answer.json")
            if status == "done":
                tags = {"promptfusion.run_id": self._run_id, "measured": str(answer.get("measured", ""))}
                run.register_prompt(self._name, answer["prompt"], tags)
        name, text = self._report()
        run.log_text(text, name)
        soft = Path(self._store.path).parent / "soft" / self._run_id
        if soft.is_dir():
            run.log_files(soft, "soft_prompts", SOFT_SUFFIXES)
        run.finish(status)

    def _report(self) -> tuple[str, str]:
        """``("report.html", html)``, or ``("report_error.txt", why)``: a run the report cannot show is
        not a tracking failure, the rest of the run's end is still logged."""
        from orchestrator.report import ReportError, build_report

        try:
            return "report.html", build_report(self._store, self._run_id, fmt="html")
        except ReportError as exc:
            return "report_error.txt", str(exc)

    def _warn(self, exc: BaseException) -> None:
        if self._abandoned:
            return
        detail = (str(exc).strip().splitlines() or [""])[0][:1000]
        message = (
            f"warning: MLflow tracking ({self.uri}) stopped: {type(exc).__name__}: {detail}; "
            "the run goes on, the run store has everything"
        )
        self._print(message)
        try:
            self._store.record_event(self._run_id, WARNING_EVENT, {"warning": message})
        except Exception:  # noqa: BLE001 - the line is printed; a failing store is the run's own error
            pass

    def _print(self, message: str) -> None:
        print(message, file=self._warn_to or sys.stderr, flush=True)
