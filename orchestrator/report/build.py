"""Building a run's report file: gather the data once, render it as HTML, JSON or Markdown."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from orchestrator.report.data import gather_report
from orchestrator.report.redact import scrub_secrets
from orchestrator.store import RunStore

__all__ = ["FORMATS", "ReportFormat", "build_report", "default_report_path", "write_report"]

ReportFormat = Literal["html", "json", "md"]
FORMATS: dict[str, str] = {"html": ".html", "json": ".json", "md": ".md"}


def build_report(
    store: RunStore,
    run_id: str,
    *,
    fmt: ReportFormat = "html",
    pareto_dims: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """A run's report as text.

    Args:
        store: the run store holding the run.
        run_id: the run.
        fmt: ``"html"`` (one self-contained page), ``"json"`` (the gathered data) or ``"md"``.
        pareto_dims: the two dimensions of the Pareto scatter (default: accuracy and ECE).
        environ: environment whose secret-looking values are scrubbed from the text (default
            ``os.environ``).

    Returns:
        The report.

    Raises:
        RunNotFound: no such run.
        ReportError: malformed saved results or a bad ``pareto_dims``.
        ValueError: an unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    report = gather_report(store, run_id, pareto_dims=pareto_dims)
    if fmt == "json":
        text = json.dumps(report, indent=2, sort_keys=True, allow_nan=False) + "\n"
    elif fmt == "md":
        from orchestrator.report.markdown import render_markdown

        text = render_markdown(report)
    else:
        from orchestrator.report.html import render_html

        text = render_html(report)
    return scrub_secrets(text, os.environ if environ is None else environ)


def default_report_path(store_path: str | Path, run_id: str, fmt: ReportFormat = "html") -> Path:
    """Where a report goes by default: ``reports/RUN_ID.EXT`` beside the run store."""
    return Path(store_path).parent / "reports" / f"{run_id}{FORMATS[fmt]}"


def write_report(
    store_path: str | Path,
    run_id: str,
    *,
    fmt: ReportFormat = "html",
    out: str | Path | None = None,
    pareto_dims: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Build a run's report and write it to a file.

    Args:
        store_path: the run store (SQLite file).
        run_id: the run.
        fmt: see ``build_report``.
        out: the file to write (its folder is created); default ``default_report_path``.
        pareto_dims: see ``build_report``.
        environ: see ``build_report``.

    Returns:
        The path written.

    Raises:
        RunNotFound: no run store at ``store_path`` or no such run in it.
        ReportError: see ``build_report``.
    """
    from orchestrator.errors import RunNotFound

    if not Path(store_path).exists():
        raise RunNotFound(f"{store_path}: no run store here (pass --store, or run a campaign first)")
    store = RunStore(store_path)
    try:
        text = build_report(store, run_id, fmt=fmt, pareto_dims=pareto_dims, environ=environ)
    finally:
        store.close()
    path = Path(out) if out is not None else default_report_path(store_path, run_id, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
