"""Do the local backend's label probabilities depend on what a request is micro-batched with?

For each ``scoring_precision`` (auto, bfloat16, float32), every example of a built-in task is scored
(a) alone, one forward pass per example, and (b) inside mixed micro-batches: the examples shuffled
into batches of ``--batch`` requests of different lengths, as concurrent requests reach the worker.
It prints the largest difference of a label probability between (a) and (b), how many examples
keep bit-identical scores, how many change their arg-max label, and the balanced accuracy each way.
Then the cost: the batched pass timed ``--repeats`` times per precision, precisions alternating,
median CPU and wall seconds.

Usage:
    nice python benchmarks/local_batch_invariance.py [--task epistemic_reasoning] [--n 74] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import time

PRECISIONS = ("auto", "bfloat16", "float32")


def probabilities(logprobs) -> list[float]:
    top = max(logprobs)
    weights = [math.exp(value - top) for value in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def balanced_accuracy(predicted: list[str], gold: list[str]) -> float:
    recalls = []
    for label in sorted(set(gold)):
        rows = [p == g for p, g in zip(predicted, gold, strict=True) if g == label]
        recalls.append(sum(rows) / len(rows))
    return sum(recalls) / len(recalls)


def batched(engine, jobs, batch: int, seed: int) -> list:
    """Scores of every job, the jobs shuffled into mixed micro-batches of ``batch``."""
    order = list(range(len(jobs)))
    random.Random(seed).shuffle(order)
    scores: dict[int, object] = {}
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        scores.update(zip(chunk, engine.score([jobs[i] for i in chunk]), strict=True))
    return [scores[i] for i in range(len(jobs))]


def invariance(engine, jobs, batch: int, seed: int) -> dict:
    alone = [engine.score([job])[0].logprobs for job in jobs]
    together = [result.logprobs for result in batched(engine, jobs, batch, seed)]
    diffs = [
        abs(a - b)
        for row_a, row_b in zip(alone, together, strict=True)
        for a, b in zip(probabilities(row_a), probabilities(row_b), strict=True)
    ]
    return {
        "max_diff": max(diffs),
        "identical": sum(a == b for a, b in zip(alone, together, strict=True)),
        "alone": [max(range(len(row)), key=row.__getitem__) for row in alone],
        "batched": [max(range(len(row)), key=row.__getitem__) for row in together],
    }


def timed(fn) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="epistemic_reasoning", help="a built-in task")
    parser.add_argument("--n", type=int, default=74, help="examples (the task's test split first)")
    parser.add_argument("--batch", type=int, default=16, help="requests per mixed micro-batch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="seeds the batch composition")
    parser.add_argument("--repeats", type=int, default=3, help="timed batched passes per precision")
    args = parser.parse_args(argv)

    import torch

    from orchestrator.local_model import LocalEngine, LocalModelOptions, ScoreJob, load_causal_lm
    from orchestrator.local_model.scoring import cpu_has_fast_bfloat16
    from orchestrator.tasks import load_builtin_task

    torch.set_num_threads(args.threads)
    task = load_builtin_task(args.task)
    splits = task.splits(seed=0)
    examples = (splits.test + splits.dev)[: args.n]
    jobs = [
        ScoreJob((("system", task.instruction), ("user", task.render_input(e))), task.labels)
        for e in examples
    ]
    gold = [e.target for e in examples]
    model, tokenizer = load_causal_lm("smollm2-135m-instruct", device="cpu")
    engines = {
        precision: LocalEngine(
            "smollm2-135m-instruct",
            LocalModelOptions(scoring_precision=precision),
            model=model,
            tokenizer=tokenizer,
        )
        for precision in PRECISIONS
    }
    print(
        f"task {task.name}, {len(jobs)} examples, mixed batches of {args.batch}, labels {list(task.labels)}"
    )
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} thread(s), "
        f"native bf16: {cpu_has_fast_bfloat16()}, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| scoring_precision | max abs diff of a probability | bit-identical | arg-max flips | "
          "balanced acc. alone | balanced acc. batched |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for precision, engine in engines.items():
        row = invariance(engine, jobs, args.batch, args.seed)
        flips = sum(a != b for a, b in zip(row["alone"], row["batched"], strict=True))
        alone = balanced_accuracy([task.labels[i] for i in row["alone"]], gold)
        together = balanced_accuracy([task.labels[i] for i in row["batched"]], gold)
        print(
            f"| {precision} | {row['max_diff']:.1e} | {row['identical']}/{len(jobs)} | {flips} | "
            f"{alone:.3f} | {together:.3f} |"
        )
    times: dict[str, list[tuple[float, float]]] = {precision: [] for precision in PRECISIONS}
    for _ in range(args.repeats):
        for precision, engine in engines.items():
            times[precision].append(timed(lambda engine=engine: batched(engine, jobs, args.batch, args.seed)))
    print()
    print(f"batched pass, median of {args.repeats} (load average now {os.getloadavg()[0]:.1f}):")
    print()
    print("| scoring_precision | CPU s | wall s | CPU vs auto |")
    print("|---|---:|---:|---:|")
    auto_cpu = statistics.median(cpu for cpu, _ in times["auto"])
    for precision, rows in times.items():
        cpu = statistics.median(c for c, _ in rows)
        wall = statistics.median(w for _, w in rows)
        print(f"| {precision} | {cpu:.1f} | {wall:.1f} | {cpu / auto_cpu:.2f}x |")


if __name__ == "__main__":
    main()
