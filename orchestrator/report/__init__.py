"""Run reports: ``promptfusion report RUN_ID`` as one self-contained HTML page, JSON or Markdown.

    from orchestrator.report import write_report
    path = write_report("runs/promptfusion.sqlite", run_id)           # HTML beside the store
    path = write_report(store, run_id, fmt="json", out="report.json")  # for pipelines

``gather_report`` returns the data every format renders (see ``docs/report.md``).
"""

from __future__ import annotations

from orchestrator.report.build import FORMATS, build_report, default_report_path, write_report
from orchestrator.report.data import gather_report
from orchestrator.report.errors import ReportError

__all__ = ["FORMATS", "ReportError", "build_report", "default_report_path", "gather_report", "write_report"]
