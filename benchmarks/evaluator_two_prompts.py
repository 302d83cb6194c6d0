"""The evaluator's report for two prompts on one task, and how acceptance policies decide between them.

For the README: one prompt more accurate but worse calibrated, the other the reverse; ``weighted``
acceptance and ``pareto`` acceptance then disagree. Works with any scorer of the ``LabelScorer`` (or
``ChatLLM``) shape, built by a zero-argument factory, and examples in JSONL.

    python benchmarks/evaluator_two_prompts.py --scorer some.module:make_scorer \\
        --examples path/to/dev.jsonl --labels negative,positive \\
        --prompt-a "..." --prompt-b "..." [--input-field input --target-field target] [--limit 100]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluators import (  # noqa: E402
    AcceptancePolicy,
    EvalConfig,
    EvaluationReport,
    Example,
    TaskSpec,
    accept,
    evaluate_prompt,
)

DEFAULT_WEIGHTS = {"accuracy": 1.0, "ece": 0.2}


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def report_markdown(
    a: EvaluationReport, b: EvaluationReport, weights: Mapping[str, float], n_resamples: int = 1000
) -> str:
    """Markdown: both prompts' dimensions with 95% bootstrap intervals, the paired difference, and decisions.

    Args:
        a: report of prompt A.
        b: report of prompt B (same examples).
        weights: weights of the weighted objective (also the dimensions Pareto compares).
        n_resamples: bootstrap resamples.

    Returns:
        The markdown text.
    """
    lines = ["| dimension | better | prompt A | prompt B | A - B (95% CI) |", "|---|---|---|---|---|"]
    for name in a.scores:
        better = "higher" if a.dimensions[name].direction == "max" else "lower"
        if name in a.prompt_verdicts:
            lines.append(
                f"| {name} | {better} | {_fmt(a.scores[name])} | {_fmt(b.scores[name])} | (per prompt) |"
            )
            continue
        ca = a.confidence_interval(name, n_resamples=n_resamples)
        cb = b.confidence_interval(name, n_resamples=n_resamples)
        diff = a.compare(b, name, n_resamples=n_resamples).difference
        lines.append(
            f"| {name} | {better} | {_fmt(a.scores[name])} [{_fmt(ca.low)}, {_fmt(ca.high)}]"
            f" | {_fmt(b.scores[name])} [{_fmt(cb.low)}, {_fmt(cb.high)}]"
            f" | {diff.estimate:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}] |"
        )
    lines += [
        "",
        f"Weighted objective (weights {dict(weights)}): A {a.objective(weights):.4f}, "
        f"B {b.objective(weights):.4f}",
        "",
    ]
    lines += ["| policy | B as candidate against A | A as candidate against B |", "|---|---|---|"]
    policies = {
        "weighted": AcceptancePolicy(kind="weighted", weights=dict(weights)),
        "pareto": AcceptancePolicy(kind="pareto", weights=dict(weights)),
        "lexicographic (tol 0.05)": AcceptancePolicy(
            kind="lexicographic", order=list(weights), tolerance=0.05, weights=dict(weights)
        ),
    }
    for label, policy in policies.items():
        b_vs_a = accept(b.normalized, [a.normalized], policy)
        a_vs_b = accept(a.normalized, [b.normalized], policy)
        lines.append(
            f"| {label} | {'accept' if b_vs_a.accepted else 'reject'} ({b_vs_a.reason})"
            f" | {'accept' if a_vs_b.accepted else 'reject'} ({a_vs_b.reason}) |"
        )
    return "\n".join(lines)


async def evaluate_two(
    scorer, examples: Sequence[Example], task: TaskSpec, prompt_a: str, prompt_b: str, config: EvalConfig
) -> tuple[EvaluationReport, EvaluationReport]:
    """Evaluate both prompts on the same examples (one after the other, each concurrent inside)."""
    a = await evaluate_prompt(prompt_a, examples, task, scorer, config=config)
    b = await evaluate_prompt(prompt_b, examples, task, scorer, config=config)
    return a, b


def load_examples(path: Path, input_field: str, target_field: str, limit: int | None) -> list[Example]:
    """Read JSONL examples; errors name the file and line."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(
                Example(str(row[input_field]), str(row[target_field]), id=f"{path.name}:{number}")
            )
        except (json.JSONDecodeError, KeyError) as exc:
            raise SystemExit(f"{path}:{number}: bad example ({type(exc).__name__}: {exc})") from exc
        if limit is not None and len(examples) >= limit:
            break
    return examples


async def _main(args: argparse.Namespace) -> None:
    module_name, _, attribute = args.scorer.partition(":")
    scorer = getattr(importlib.import_module(module_name), attribute)()
    if inspect.isawaitable(scorer):
        scorer = await scorer
    labels = tuple(args.labels.split(","))
    task = TaskSpec(Path(args.examples).stem, labels=labels, positive_label=args.positive)
    examples = load_examples(Path(args.examples), args.input_field, args.target_field, args.limit)
    config = EvalConfig(scoring=args.scoring, concurrency=args.concurrency, max_errors=args.max_errors)
    try:
        a, b = await evaluate_two(scorer, examples, task, args.prompt_a, args.prompt_b, config)
    finally:
        if hasattr(scorer, "aclose"):
            await scorer.aclose()
    print(f"Task {task.name}: {len(examples)} examples, scoring={a.scoring}\n")
    print(f"Prompt A: {args.prompt_a!r}\nPrompt B: {args.prompt_b!r}\n")
    print(report_markdown(a, b, DEFAULT_WEIGHTS))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scorer", required=True, help="zero-argument factory, 'module:callable'")
    parser.add_argument("--examples", required=True, help="JSONL file of examples")
    parser.add_argument("--labels", required=True, help="comma-separated label set")
    parser.add_argument("--positive", default=None, help="positive label of a binary task")
    parser.add_argument("--prompt-a", required=True)
    parser.add_argument("--prompt-b", required=True)
    parser.add_argument("--input-field", default="input")
    parser.add_argument("--target-field", default="target")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--scoring", default="auto", choices=["auto", "label_scores", "generate"])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-errors", type=int, default=10)
    asyncio.run(_main(parser.parse_args()))
