"""Gated fusion against single-task prompts, same number of steps, on the embedded model.

Per seed: one text-initialised prompt per task, tuned ``--steps`` steps on that task alone; then a
gated fusion whose pool is those tuned prompts (frozen) plus a zero-initialised target prompt, with a
task-conditioned gate, tuned ``--steps`` steps on all tasks jointly (mixed batches). Each prompt is
scored on dev every ``--eval-every`` steps; the best-dev prompt is scored on a held-out test split. The
table gives, per task, the majority-class rate of its test split, the single prompt's and the fusion's
test accuracy (mean and standard deviation over seeds), and the gate's weight on the task's own prompt.

    python benchmarks/soft_fusion_vs_single.py --threads 1 --out benchmarks/results/soft_fusion_vs_single.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_repro_tasks import load_builtin_split  # noqa: E402

from soft_prompts.api import train_fused_prompt, train_soft_prompt  # noqa: E402
from soft_prompts.config import PromptInit, TrainConfig  # noqa: E402
from soft_prompts.devices import load_base_model, plan_devices  # noqa: E402
from soft_prompts.scoring import label_probabilities  # noqa: E402


def _accuracy(model, tokenizer, task, examples, task_id: int, max_length: int) -> float:
    inputs = [e.input_text for e in examples]
    probabilities = label_probabilities(
        model, tokenizer, inputs, task.labels, [task_id] * len(inputs), max_length=max_length
    )
    gold = torch.tensor([task.labels.index(e.target_text) for e in examples])
    return float((probabilities.argmax(dim=-1) == gold).float().mean())


def _majority(task, examples) -> float:
    counts = {label: sum(e.target_text == label for e in task.train) for label in task.labels}
    majority = max(counts, key=counts.get)
    return sum(e.target_text == majority for e in examples) / max(1, len(examples))


def _best_constant(task, examples) -> float:
    """The best a constant answer can score on ``examples`` (the share of their most frequent label)."""
    return max(sum(e.target_text == label for e in examples) for label in task.labels) / max(1, len(examples))


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {spread:.3f}"


def run_seed(args, model, tokenizer, tasks, seed: int) -> dict:
    """Single prompts per task, then the fusion over them; test accuracy per task for both."""
    config = TrainConfig(
        max_steps=args.steps,
        batch_size=args.batch_size,
        max_length=args.max_length,
        learning_rate=args.lr,
        eval_every=args.eval_every,
        patience=None,
        seed=seed,
    )
    result: dict = {"single": {}, "fusion": {}}
    pool = []
    for name, (data, test, instruction) in tasks.items():
        started = time.perf_counter()
        run = train_soft_prompt(
            model, tokenizer, data, PromptInit(kind="text", text=instruction), args.n_virtual, config
        )
        pool.append(run.model.prompt.static_prompt())
        accuracy = _accuracy(run.model, tokenizer, data, test, 0, args.max_length)
        result["single"][name] = {"best_dev": run.result.best_dev_score, "test": accuracy}
        print(
            f"  seed {seed} single {name}: test {accuracy:.3f} ({time.perf_counter() - started:.0f}s)",
            flush=True,
        )
    started = time.perf_counter()
    datas = [data for data, _, _ in tasks.values()]
    fused = train_fused_prompt(model, tokenizer, datas, pool, config=config)
    gate = fused.gate_matrix.tolist()
    for task_id, (name, (data, test, _)) in enumerate(tasks.items()):
        accuracy = _accuracy(fused.model, tokenizer, data, test, task_id, args.max_length)
        result["fusion"][name] = {"test": accuracy, "gate_own": gate[task_id][task_id]}
        print(f"  seed {seed} fusion {name}: test {accuracy:.3f}, gate {gate[task_id]}", flush=True)
    result["fusion_best_dev_mean_over_tasks"] = fused.result.best_dev_score
    result["fusion_seconds"] = time.perf_counter() - started
    return result


def markdown(per_seed: dict[int, dict], majority: dict[str, float], constant: dict[str, float]) -> str:
    lines = [
        "| task | train-majority label (test) | best constant (test) | single prompt (test) "
        "| gated fusion (test) | gate on own prompt |",
        "|---|---|---|---|---|---|",
    ]
    for name, rate in majority.items():
        single = [run["single"][name]["test"] for run in per_seed.values()]
        fusion = [run["fusion"][name]["test"] for run in per_seed.values()]
        gate = [run["fusion"][name]["gate_own"] for run in per_seed.values()]
        lines.append(
            f"| {name} | {rate:.3f} | {_mean_std(single)} | {_mean_std(fusion)} | {_mean_std(gate)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="HF model directory (default: the embedded SmolLM2-135M)")
    parser.add_argument("--tasks", default="sports_understanding,irony_identification")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--eval-every", type=int, default=8)
    parser.add_argument("--n-train", type=int, default=16)
    parser.add_argument("--n-dev", type=int, default=16)
    parser.add_argument("--n-test", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--n-virtual", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--lr", type=float, default=3e-2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model_dir:
        model_dir = Path(args.model_dir)
    else:
        from orchestrator.local_model import ensure_embedded_model

        model_dir = ensure_embedded_model()
    model, tokenizer = load_base_model(model_dir, plan_devices("cpu"))
    tasks = {}
    for name in args.tasks.split(","):
        data, test, instruction, _family = load_builtin_split(name, args.n_train, args.n_dev, args.n_test)
        tasks[name] = (data, test, instruction)
    majority = {name: _majority(data, test) for name, (data, test, _) in tasks.items()}
    constant = {name: _best_constant(data, test) for name, (data, test, _) in tasks.items()}
    started = time.perf_counter()
    per_seed = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        per_seed[seed] = run_seed(args, model, tokenizer, tasks, seed)
    table = markdown(per_seed, majority, constant)
    print(table)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "settings": vars(args) | {"out": str(args.out) if args.out else None},
        "load_average_end": os.getloadavg(),
        "wall_s": time.perf_counter() - started,
        "majority_test": majority,
        "best_constant_test": constant,
        "per_seed": per_seed,
        "table": table,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
