"""Paired comparison of ``benchmarks/search_quality.py`` runs: ours against each DSPy optimizer.

Every tool of one seed searches the same split, so per seed ``ours - other`` is a paired difference
of true quality. For each budget and opponent this prints the medians, the mean difference with a
95% percentile bootstrap interval over seeds (2,000 resamples), and wins/ties/losses; and ours at
each budget against COPRO at twice the calls. A claim that one tool is better stands only where the
interval excludes zero.

Usage: ``python -m benchmarks.search_quality_report LOG [LOG ...]``, where each LOG is the printed
output of ``python -m benchmarks.search_quality`` (its ``seed S budget B TOOL: quality Q, N calls``
lines; runs of one landscape only).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
from collections import defaultdict
from pathlib import Path

__all__ = ["paired_rows", "read_runs"]

LINE = re.compile(r"^seed (\d+) budget (\d+) (.+?): quality ([0-9.]+), (\d+) calls")
OURS_PREFIX = "promptfusion ours"
RESAMPLES = 2000


def read_runs(paths: list[Path]) -> dict[tuple[int, str], dict[int, float]]:
    """``{(budget, tool): {seed: true quality}}`` from the printed lines of the logs."""
    runs: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    for path in paths:
        for line in path.read_text().splitlines():
            match = LINE.match(line)
            if match:
                seed, budget, tool, quality, _ = match.groups()
                tool = "ours" if tool.startswith(OURS_PREFIX) else tool
                runs[(int(budget), tool)][int(seed)] = float(quality)
    return runs


def _interval(diffs: list[float], rng: random.Random) -> tuple[float, float]:
    means = sorted(statistics.mean(rng.choices(diffs, k=len(diffs))) for _ in range(RESAMPLES))
    return means[int(0.025 * RESAMPLES)], means[int(0.975 * RESAMPLES) - 1]


def paired_rows(runs: dict[tuple[int, str], dict[int, float]], seed: int = 0) -> list[str]:
    """Markdown rows: ours at each budget against every other tool at that budget, then against
    COPRO at twice the budget where it ran."""
    rng = random.Random(seed)
    ours_budgets = sorted(b for b, tool in runs if tool == "ours")
    pairs = [
        (b, tool, b)
        for b in ours_budgets
        for (budget, tool) in sorted(runs)
        if budget == b and tool != "ours"
    ]
    pairs += [(b, "DSPy COPRO", 2 * b) for b in ours_budgets if (2 * b, "DSPy COPRO") in runs]
    return [
        _row(runs[(ours_budget, "ours")], runs[(budget, tool)], ours_budget, f"{tool} at {budget}", rng)
        for ours_budget, tool, budget in pairs
    ]


def _row(ours: dict[int, float], theirs: dict[int, float], budget: int, against: str, rng) -> str:
    seeds = sorted(set(ours) & set(theirs))
    diffs = [ours[s] - theirs[s] for s in seeds]
    low, high = _interval(diffs, rng)
    verdict = "ours better" if low > 0 else ("ours worse" if high < 0 else "no difference shown")
    wins, ties = sum(d > 0 for d in diffs), sum(d == 0 for d in diffs)
    return (
        f"| {budget} | {against} | {len(seeds)} | {statistics.median(ours[s] for s in seeds):.3f} | "
        f"{statistics.median(theirs[s] for s in seeds):.3f} | "
        f"{statistics.mean(diffs):+.3f} [{low:+.3f}, {high:+.3f}] | "
        f"{wins}/{ties}/{len(seeds) - wins - ties} | {verdict} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_quality_report", description=__doc__)
    parser.add_argument("logs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    header = (
        "| our calls | against | seeds | our median | their median | mean paired difference [95% CI] "
        "| wins/ties/losses | verdict |\n|---:|---|---:|---:|---:|---:|---:|---|"
    )
    print("\n".join([header, *paired_rows(read_runs(args.logs))]))


if __name__ == "__main__":
    main()
