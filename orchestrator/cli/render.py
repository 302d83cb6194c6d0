"""Small rendering helpers shared by the CLI commands (rich tables, error lines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.clip import clip
from orchestrator.errors import PromptfusionError
from orchestrator.operators import operator_summary

# The candidate-writing operators the summary counts (baselines and promoted prompts are not written).
_OPERATORS = ("proposed", "reflected", "merged", "edited")


def error_line(exc: BaseException) -> str:
    """One readable line for an error: ours as they are, others with their type and a hint."""
    if isinstance(exc, PromptfusionError):
        return f"error: {exc}"
    try:
        from orchestrator.backends.base import LLMError
    except ImportError:  # pragma: no cover - base has no heavy imports
        LLMError = ()  # type: ignore[assignment]
    if isinstance(exc, LLMError):
        return f"error: {type(exc).__name__}: {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"error: {type(exc).__name__}: {text} (run with --debug for the traceback)"


def console(stderr: bool = False):
    """A rich console (imported lazily so --help stays fast)."""
    from rich.console import Console

    return Console(stderr=stderr)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_estimate(campaign, tasks=None) -> None:
    """The ``--dry-run`` table: calls and tokens per role, cost, and the budget they meet.

    ``tasks``: the campaign's tasks as loading validated them (None: read again)."""
    from rich.table import Table

    from orchestrator.estimate import estimate_campaign

    estimate = estimate_campaign(campaign, tasks)
    table = Table(title=f"pre-flight estimate: {campaign.name} (the run's allocation plan)")
    for column in ("role", "model", "calls", "prompt tokens", "completion tokens"):
        table.add_column(column, justify="right" if column not in ("role", "model") else "left")
    for role, calls in estimate.calls.items():
        prompt, completion = estimate.tokens[role]
        model = getattr(campaign.models, role).model
        table.add_row(role, model, f"{calls:,}", f"{prompt:,}", f"{completion:,}")
    out = console()
    out.print(table)
    cost = "unknown" if estimate.usd is None else f"${estimate.usd:.2f}"
    out.print(f"total: {estimate.total_calls:,} calls, {estimate.total_tokens:,} tokens, cost {cost}")
    budget = campaign.budget
    for name, used, limit in (
        ("max_calls", estimate.total_calls, budget.max_calls),
        ("max_tokens", estimate.total_tokens, budget.max_tokens),
        ("max_usd", estimate.usd, budget.max_usd),
    ):
        if limit is not None and used is not None and used > limit:
            out.print(f"[yellow]budget.{name} = {limit} may stop the run before it finishes[/yellow]")
    for role, price in estimate.prices.items():
        model = getattr(campaign.models, role).model
        described = price.describe() if price is not None else "unknown (set options.price_usd_per_mtok)"
        out.print(f"price of {role} {model}: {described}", markup=False)
    for note in estimate.notes:
        out.print(f"note: {note}")


def print_result(result, out, campaign=None) -> None:
    """The short table a run ends with: the winners and their held-out scores, cost, where to look.

    ``campaign`` (the campaign file) is named in the resume command of a run that did not finish.
    """
    from rich.markup import escape
    from rich.table import Table

    from orchestrator.comparison import columns, final_comparison, row_cells

    comparison = final_comparison(result.final, result.soft)
    soft = result.soft or {}
    if comparison["rows"]:
        title = f"final comparison on held-out test: {result.run_id} ({comparison['n']} examples)"
        table = Table(title=title)
        # Verdicts and flags are sentences: printed under the table, where they are not cut short.
        for column in columns(comparison["metric"])[:-2]:
            table.add_column(column)
        for row in comparison["rows"]:
            cells = [_escape(c) for c in row_cells(row, comparison["metric"])[:-2]]
            table.add_row(*cells, style="dim" if row["kind"] == "trivial" else None)
        out.print(table)
        for row in comparison["rows"]:
            *_, verdict, flag = row_cells(row, comparison["metric"])
            notes = [verdict] if verdict else []
            notes += [f"[yellow]{_escape(flag)}[/yellow]"] if flag else []
            if notes:
                out.print(
                    f"{_escape(row['name'])}: "
                    + "; ".join(n if n.startswith("[yellow]") else _escape(n) for n in notes)
                )
        for row in comparison["rows"]:
            if row.get("prompt"):
                out.print(_escape(f"{row['name']} = {clip(row['prompt'], 100, ellipsis='…')}"))
    elif result.answer:
        answer = result.answer
        measured = f"objective {_fmt(answer['objective'])} ({answer['measured']})"
        out.print(_escape(f"best prompt so far: {measured}"))
        out.print(_escape(f"  {clip(answer['prompt'], 200, ellipsis='…')}"))
    if soft.get("skipped"):
        out.print(f"soft-prompt stage not run: {soft['skipped']}")
    operators = (result.final or {}).get("operators") or {}
    if any(name in operators for name in _OPERATORS):
        shown = [operator_summary(name, row) for name, row in operators.items() if name in _OPERATORS]
        rates = ", ".join(shown)
        out.print(_escape(f"operators: {rates}"))
    calls = sum(u["calls"] for u in result.usage.values())
    hits = sum(u["cache_hits"] for u in result.usage.values())
    usd = sum(u["cost_usd"] for u in result.usage.values())
    out.print(f"{calls} LLM calls ({hits} from cache), ${usd:.4f}")
    colour = {"done": "green", "stopped": "yellow"}.get(result.status, "red")
    out.print(f"[{colour}]{result.status}[/{colour}]: {escape(result.message)}", soft_wrap=True)
    out.print(f"run {result.run_id} in {escape(str(result.store))}", soft_wrap=True)
    if result.status != "done":
        lead = "fix the cause, then resume with" if result.status == "failed" else "continue with"
        command = f"promptfusion run {campaign or 'CAMPAIGN.yaml'} --resume {result.run_id}"
        out.print(f"{lead}: {escape(command)}", soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# Standard dimensions shown after the objective's own, when some candidate has them.
HISTORY_EXTRA_DIMENSIONS = ("accuracy", "macro_f1", "ece", "auroc")


def history_dimensions(
    objective: Mapping[str, Any] | None, candidates: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The history table's score columns: the objective's dimensions (weighted, lexicographic order,
    judged) first, always, then the standard ones that some candidate was scored on.

    Args:
        objective: the run's saved ``objective`` section (None: the default objective's).
        candidates: the scored candidates (rows of ``RunStore.candidates``).
    """
    from orchestrator.config import ObjectiveConfig

    # Read leniently: a store written by another version may hold keys this one does not know.
    saved, default = objective or {}, ObjectiveConfig()
    weights = saved.get("weights", default.weights)
    names = [name for name, weight in weights.items() if weight > 0]
    if saved.get("acceptance", default.acceptance) == "lexicographic":
        names += saved.get("lexicographic_order", default.lexicographic_order)
    names += [f"judge_{name}" for name in saved.get("judge_dimensions", [])]
    scored = {name for cand in candidates for name in cand["scores"]}
    names += [name for name in HISTORY_EXTRA_DIMENSIONS if name in scored]
    return list(dict.fromkeys(names))


def print_history(candidates, result, out, objective: Mapping[str, Any] | None = None) -> None:
    """Every scored candidate, per stage, with the objective's dimensions; stage bests marked.

    ``objective``: the run's saved ``objective`` section (None: the default objective's)."""
    from rich.table import Table

    dims = history_dimensions(objective, candidates)
    front = set()
    for stage, cand in ((result or {}).get("winners") or {}).items():
        front.add((stage, cand.get("id")))
    table = Table(title="history (* = stage best)")
    for column in ("stage", "it", "origin", "objective", *dims, "prompt"):
        table.add_column(column)
    for cand in candidates:
        mark = "*" if (cand["stage"], cand["id"]) in front else ""
        scores = cand["scores"]
        table.add_row(
            cand["stage"],
            str(cand["iteration"]),
            cand["origin"],
            _fmt(cand["objective"]) + mark,
            *(_fmt(scores.get(d)) for d in dims),
            clip(cand["prompt"], 60, ellipsis="…"),
        )
    out.print(table)
