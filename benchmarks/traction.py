"""Does the embedded model have traction on each built-in task, and does label calibration help?

For every built-in task, a few hand-written prompts are scored on the dev split with the embedded
SmolLM2-135M-Instruct (label likelihoods), through the real evaluator (``evaluate_prompt``) once per
calibration method (``none``, ``batch``, ``content_free``). A response cache makes the second and
third pass free: the calibrations reuse the same label scores (only ``content_free`` adds its three
content-free calls per prompt). Printed as Markdown:

1. calibration: per task, the mean over prompts of macro-F1 and balanced accuracy for each method;
2. traction: per task, the majority-class rate (accuracy of a constant answer) against the best
   prompt's accuracy and balanced accuracy, raw and calibrated, with the best prompt's 95% interval.

Usage:
    python benchmarks/traction.py [--dev 60] [--tasks a,b] [--cache /tmp/traction-cache.sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter

METHODS = ("none", "batch", "content_free")


def prompts_for(task) -> list[str]:
    """Three hand-written prompts: the task's own instruction, a terse one, a described one."""
    labels = ", ".join(task.labels)
    return [
        task.instruction,
        f"Answer with one of: {labels}.",
        f"{task.description}. Read the input carefully, then reply with exactly one label ({labels}).",
    ]


async def measure(task, examples, scorer, seed: int) -> dict:
    from evaluators import EvalConfig, evaluate_prompt
    from orchestrator.tasks.evaluation import to_eval_examples, to_eval_spec

    spec, items = to_eval_spec(task), to_eval_examples(task, examples)
    out = {}
    for prompt in prompts_for(task):
        for method in METHODS:
            config = EvalConfig(scoring="label_scores", calibration=method, concurrency=64, seed=seed)
            report = await evaluate_prompt(prompt, items, spec, scorer, config=config)
            ci = report.confidence_interval("balanced_accuracy", seed=seed)
            out[(prompt, method)] = {**report.scores, "bal_ci": (ci.low, ci.high)}
    return out


def majority_rate(examples) -> float:
    return Counter(e.target for e in examples).most_common(1)[0][1] / len(examples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=int, default=60, help="dev examples per task (at most)")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all built-in)")
    parser.add_argument("--cache", default="/tmp/promptfusion-traction-cache.sqlite")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from orchestrator.gateway import GatewaySettings, build_gateway
    from orchestrator.gateway.cache import ResponseCache
    from orchestrator.tasks.builtin import builtin_task_names, load_builtin_task

    names = [n for n in args.tasks.split(",") if n] or builtin_task_names()
    settings = GatewaySettings(model="local/smollm2-135m-instruct", concurrency=64, timeout=1800.0)
    started = time.perf_counter()
    results = {}
    with ResponseCache(args.cache) as cache:
        async with build_gateway(settings, role="scorer", cache=cache) as scorer:
            await scorer.backend.load()
            for name in names:
                task = load_builtin_task(name)
                examples = task.split("dev", args.seed)[: args.dev]
                t0 = time.perf_counter()
                results[name] = (task, examples, await measure(task, examples, scorer, args.seed))
                print(f"<!-- {name}: {len(examples)} dev examples, {time.perf_counter() - t0:.0f} s -->")
    print(f"<!-- total {time.perf_counter() - started:.0f} s -->\n")

    print("### Calibration: mean over 3 prompts, dev split\n")
    print("| task | k | n | macro-F1 raw | batch | content-free | bal. acc. raw | batch | content-free |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (task, examples, scores) in results.items():
        prompts = prompts_for(task)

        def mean(metric, method, scores=scores, prompts=prompts):
            return statistics.mean(scores[(p, method)][metric] for p in prompts)

        f1 = " | ".join(f"{mean('macro_f1', m):.3f}" for m in METHODS)
        bal = " | ".join(f"{mean('balanced_accuracy', m):.3f}" for m in METHODS)
        print(f"| {name} | {len(task.labels)} | {len(examples)} | {f1} | {bal} |")

    print("\n### Traction: best of 3 prompts (by balanced accuracy), dev split\n")
    print(
        "| task | k | n | majority rate | chance bal. acc. | best raw: acc. / bal. acc. [95% CI] "
        "| best batch | best content-free |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (task, examples, scores) in results.items():
        cells = []
        for method in METHODS:
            best = max(prompts_for(task), key=lambda p, m=method: scores[(p, m)]["balanced_accuracy"])
            row = scores[(best, method)]
            low, high = row["bal_ci"]
            cells.append(f"{row['accuracy']:.3f} / {row['balanced_accuracy']:.3f} [{low:.2f}, {high:.2f}]")
        k = len(task.labels)
        print(
            f"| {name} | {k} | {len(examples)} | {majority_rate(examples):.3f} | {1 / k:.3f} | "
            + " | ".join(cells)
            + " |"
        )


if __name__ == "__main__":
    asyncio.run(main())
