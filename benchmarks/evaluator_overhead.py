"""How much the evaluator itself costs, and whether it keeps the scorer busy up to the concurrency limit.

1. Overhead: a zero-latency label scorer, so the time is the evaluator's own (scheduling, extraction,
   every metric).
2. Concurrency: a scorer with fixed latency; wall time against the ideal ``ceil(n / limit) * latency``,
   and the most calls seen in flight.

    python benchmarks/evaluator_overhead.py [--examples 2000] [--latency 0.02] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluators import EvalConfig, Example, TaskSpec, evaluate_prompt  # noqa: E402

TASK = TaskSpec("synthetic", labels=("negative", "positive"))


@dataclass
class _Scores:
    probs: dict


class LatencyScorer:
    """Label scorer with a fixed latency; P(positive) depends on the input so metrics are non-trivial."""

    def __init__(self, latency: float):
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0

    async def score_labels(self, messages, labels):
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        p = (zlib.crc32(messages[-1]["content"].encode()) % 1000) / 1000
        return _Scores({"negative": 1 - p, "positive": p})


def _examples(n: int) -> list[Example]:
    return [Example(f"example {i}", "positive" if i % 2 else "negative") for i in range(n)]


async def _run(args: argparse.Namespace) -> None:
    examples = _examples(args.examples)
    started = time.perf_counter()
    await evaluate_prompt("p", examples, TASK, LatencyScorer(0.0), config=EvalConfig(concurrency=64))
    overhead = time.perf_counter() - started
    print(
        f"overhead: {len(examples)} examples in {overhead:.3f} s = {len(examples) / overhead:,.0f} examples/s"
    )

    n = args.concurrency * 25
    scorer = LatencyScorer(args.latency)
    started = time.perf_counter()
    await evaluate_prompt("p", _examples(n), TASK, scorer, config=EvalConfig(concurrency=args.concurrency))
    wall = time.perf_counter() - started
    ideal = math.ceil(n / args.concurrency) * args.latency
    print(
        f"concurrency: {n} examples, latency {args.latency * 1000:.0f} ms, limit {args.concurrency}: "
        f"wall {wall:.3f} s, ideal {ideal:.3f} s, ratio {wall / ideal:.2f}, "
        f"max in flight {scorer.max_in_flight}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(_run(parser.parse_args()))
