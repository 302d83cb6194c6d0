"""The run report as one self-contained HTML file: inline CSS and SVG, no scripts, no external URLs.

A Content-Security-Policy forbids scripts and every network fetch, so the file opens offline and a
prompt that smuggled markup past the escaping still could not run anything. All text from the run
(task names, prompts written by an LLM, config values) is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.comparison import columns, row_cells
from orchestrator.operators import operator_summary
from orchestrator.report.plots import all_plots
from orchestrator.report.scale import format_number
from orchestrator.report.svg_elements import esc

__all__ = ["render_html"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root { --ink: #1d1d1f; --muted: #666; --line: #e3e3e3; --accent: #4e79a7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, 'DejaVu Sans', sans-serif; color: var(--ink);
  background: #fafafa; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 60px; }
header { background: #fff; border-bottom: 1px solid var(--line); }
header .inner { max-width: 1200px; margin: 0 auto; padding: 20px 28px 12px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
.muted { color: var(--muted); }
.status { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.status.done { background: #dff3e3; color: #1e6b32; }
.status.stopped, .status.running, .status.interrupted { background: #fff1d6; color: #8a5a00; }
.status.failed { background: #fde2e1; color: #9b1c1c; }
nav { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px;
  margin: 18px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .value { font-size: 20px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px;
  overflow-x: auto; }
svg.plot { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { background: #fff8e6; border: 1px solid #f0d9a7; border-radius: 8px; padding: 10px 14px; }
.prompt { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent);
  border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.prompt pre, pre.config { white-space: pre-wrap; word-break: break-word; margin: 6px 0 0;
  font: 13px/1.45 ui-monospace, 'DejaVu Sans Mono', monospace; }
pre.config { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
"""

_SECTIONS = (
    ("progress", "Search progress"),
    ("dimensions", "Dimensions"),
    ("pareto", "Pareto front"),
    ("usage", "Calls and spend"),
    ("soft", "Soft prompts"),
    ("comparison", "Final comparison"),
    ("prompts", "Winning prompts"),
    ("config", "Configuration"),
)


def _when(ts: float | None) -> str:
    if ts is None:
        return "n/a"
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else esc(value)


def _ci(interval: Sequence[float] | None) -> str:
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "n/a"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells must already be escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(plots: Mapping[str, str], *keys: str) -> str:
    figures = "".join(f"<figure>{plots[k]}</figure>" for k in keys if k in plots)
    return f'<div class="grid">{figures}</div>'


def _header(report: Mapping[str, Any]) -> str:
    run = report["run"]
    status = esc(run["status"])
    badge = f'<span class="status {status}">{status}</span>'
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in _SECTIONS)
    scoring = f'<div class="muted">scoring: {esc(report["scoring"])}</div>' if report.get("scoring") else ""
    return (
        f'<header><div class="inner"><h1>{esc(run["name"])} {badge}</h1>'
        f'<div class="muted">run <code>{esc(run["run_id"])}</code> · seed {esc(run["seed"])} · started '
        f"{_when(run['created'])} · ran {_duration(run['last_activity'] - run['created'])}</div>"
        f"<div>{esc(run['message'] or '')}</div>{scoring}<nav>{nav}</nav></div></header>"
    )


def _cards(report: Mapping[str, Any]) -> str:
    totals = report["usage"]["totals"]
    test = ((report.get("final") or {}).get("test")) or {}
    cards = []
    if "winner" in test and "baseline" in test:
        cards.append((_num(test["winner"]["objective"]), "winner: held-out objective"))
        cards.append((_num(test["baseline"]["objective"]), "baseline: held-out objective"))
    candidates = sum(len(s["candidates"]) for s in report["stages"])
    cards += [
        (str(candidates), "candidates scored"),
        (f"{int(totals['calls']):,}", "LLM calls"),
        (f"{int(totals['cache_hits']):,}", "answered from cache"),
        (format_number(totals["prompt_tokens"] + totals["completion_tokens"]), "tokens"),
        (f"${totals['cost_usd']:.4f}", "spend"),
    ]
    items = "".join(
        f'<div class="card"><div class="value">{v}</div><div class="label">{k}</div></div>' for v, k in cards
    )
    return f'<div class="cards">{items}</div>'


def _usage_table(usage: Mapping[str, Any]) -> str:
    rows = [
        [
            esc(role),
            f"{int(u['calls']):,}",
            f"{int(u['cache_hits']):,}",
            f"{int(u['prompt_tokens']):,}",
            f"{int(u['completion_tokens']):,}",
            f"${u['cost_usd']:.4f}",
            f"{u['latency_s']:.1f}",
            f"{int(u['errors'])}",
        ]
        for role, u in usage["by_role"].items()
    ]
    headers = [
        "role (model)",
        "calls",
        "cache hits",
        "prompt tokens",
        "completion tokens",
        "USD",
        "latency s",
        "errors",
    ]
    return _table(headers, rows, numeric=range(1, 8))


def _soft_section(report: Mapping[str, Any], plots: Mapping[str, str]) -> str:
    soft = report["soft"]
    if not soft:
        return f'<p class="note" data-note="soft-absent">{esc(report["soft_note"])}</p>'
    return (
        "<h3>Training curves</h3>"
        + _figure(plots, "soft-loss", "soft-dev")
        + "<h3>Gated fusion and task vectors</h3>"
        + _figure(plots, "gate", "similarity")
    )


def _comparison_section(report: Mapping[str, Any], plots: Mapping[str, str]) -> str:
    if not report["comparison"]:
        note = '<p class="note">No held-out comparison yet: the run has not reached its test step.</p>'
        answer = report.get("answer")
        if answer:
            note += (
                f'<p class="note">Best prompt so far (objective {_num(answer.get("objective"))};'
                f" {esc(answer['measured'])}):</p><pre>{esc(answer['prompt'])}</pre>"
            )
        return note
    metric = report["comparison_metric"]
    rows = [[esc(c) for c in row_cells(r, metric)] for r in report["comparison"]]
    note = (
        f'<p class="note">{report["comparison_n"]} held-out examples; 95% bootstrap intervals. A verdict '
        "says &ldquo;improved&rdquo; only when the paired interval of the difference excludes zero; the "
        "trivial rows are what a constant or random answer scores on the same split.</p>"
    )
    table = _table(columns(metric), rows, numeric=(2, 3, 4, 5))
    operators = report.get("operators") or {}
    if operators:
        parts = ", ".join(esc(operator_summary(n, r)) for n, r in operators.items())
        table += f'<p class="note">Candidates per operator: {parts}.</p>'
    return _figure(plots, "comparison") + note + table


def _prompts_section(report: Mapping[str, Any]) -> str:
    if not report["prompts"]:
        return '<p class="note">No prompts scored yet.</p>'
    blocks = []
    for row in report["prompts"]:
        scores = []
        if row["dev_objective"] is not None:
            scores.append(f"dev objective {_num(row['dev_objective'])}")
        if row["test_objective"] is not None:
            scores.append(f"held-out objective {_num(row['test_objective'])}")
        scored = " · ".join(scores)
        blocks.append(
            f'<div class="prompt"><strong>{esc(row["role"])}</strong> <span class="muted">{scored}</span>'
            f"<pre>{esc(row['prompt'])}</pre></div>"
        )
    return "".join(blocks)


def _stage_table(report: Mapping[str, Any]) -> str:
    rows = []
    for stage in report["stages"]:
        best = stage["best_so_far"][-1]["objective"] if stage["best_so_far"] else None
        rows.append(
            [
                esc(stage["label"]),
                esc(", ".join(stage["tasks"])),
                str(len(stage["candidates"])),
                esc(stage["iterations"] if stage["iterations"] is not None else "n/a"),
                _num(best),
            ]
        )
    return _table(["stage", "tasks", "candidates", "iterations", "best objective"], rows, numeric=(2, 3, 4))


def render_html(report: Mapping[str, Any]) -> str:
    """Render gathered report data (``gather_report``) as one self-contained HTML page.

    Args:
        report: the dict from ``orchestrator.report.data.gather_report``.

    Returns:
        The HTML document.
    """
    plots = all_plots(report)
    run = report["run"]
    config = json.dumps(report["config"], indent=2, sort_keys=True)
    sections = {
        "progress": _stage_table(report) + _figure(plots, "objective-source", "objective-target"),
        "dimensions": _figure(plots, "dimensions-source", "dimensions-target"),
        "pareto": _figure(plots, "pareto"),
        "usage": _figure(plots, "calls", "tokens", "spend")
        + _usage_table(report["usage"])
        + "".join(f'<p class="note" data-note="run">{esc(note)}</p>' for note in report.get("notes", [])),
        "soft": _soft_section(report, plots),
        "comparison": _comparison_section(report, plots),
        "prompts": _prompts_section(report),
        "config": (
            "<details><summary>The resolved campaign config (keys appear as environment-variable names)"
            f'</summary><pre class="config">{esc(config)}</pre></details>'
        ),
    }
    body = "".join(
        f'<section id="{key}"><h2>{esc(title)}</h2>{sections[key]}</section>' for key, title in _SECTIONS
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>promptfusion report: {esc(run['name'])} ({esc(run['run_id'])})</title>"
        f"<style>{_CSS}</style></head><body>"
        f"{_header(report)}<main>{_cards(report)}{body}"
        f"<footer>promptfusion report · schema {report['schema_version']}"
        f" · generated {_when(report['generated'])} · store {esc(run['store'])}</footer>"
        "</main></body></html>\n"
    )
