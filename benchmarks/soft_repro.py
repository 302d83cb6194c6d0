"""Small-scale reproduction: few-shot prompt tuning from five starting points on the embedded model.

For a target task and related source tasks (one built-in family), per seed:

  (a) random      prompt from Gaussian noise at the embedding scale (this is also the seed's *origin*)
  (b) vocab       prompt from randomly sampled vocabulary embeddings
  (c) text        prompt from the task's discrete instruction, tokenised and repeated/truncated
  (d) vectors     origin + sum of the source tasks' task prompt vectors (each source tuned from that origin)
  (e) fusion      instance-aware gated fusion over the tuned source prompts (frozen) plus a target prompt

Each condition trains the same number of steps on the same few-shot data and is scored on dev every
``--eval-every`` steps (step 0 = the starting prompt, i.e. zero-shot). The best-dev prompt is then scored on
a held-out test split. Results: mean and standard deviation over seeds.

    python benchmarks/soft_repro.py --threads 1 --out benchmarks/results/soft_repro.json

Defaults: sentiment family (target multiemo_en; sources irony_identification and snarks), 16 training
examples, 16 steps of batch 4, 8 virtual tokens, 3 seeds; about 10 CPU-minutes per seed on one core.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
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
from soft_prompts.vectors import similarity_matrix  # noqa: E402

CONDITIONS = ("random", "vocab", "text", "vectors", "fusion")


def _test_accuracy(model, tokenizer, task, test, max_length: int) -> float:
    probabilities = label_probabilities(
        model, tokenizer, [e.model_input for e in test], task.labels, [0] * len(test), max_length=max_length
    )
    gold = torch.tensor([task.labels.index(e.target_text) for e in test])
    return float((probabilities.argmax(dim=-1) == gold).float().mean())


def _majority(task, examples) -> float:
    counts = {label: sum(e.target_text == label for e in task.train) for label in task.labels}
    majority = max(counts, key=counts.get)
    return sum(e.target_text == majority for e in examples) / max(1, len(examples))


def _mean_std(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def run_seed(args, model, tokenizer, target, test, sources, instruction, seed: int, store: Path) -> dict:
    """All five conditions for one seed; returns ``condition -> {dev_curve, best_dev, test, seconds}``."""
    base = {
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "learning_rate": args.lr,
        "seed": seed,
    }
    source_config = TrainConfig(max_steps=args.source_steps, eval_every=0, **base)
    target_config = TrainConfig(max_steps=args.steps, eval_every=args.eval_every, patience=None, **base)
    origin = PromptInit(kind="random", seed=seed)
    source_prompts = []
    for source in sources:
        started = time.perf_counter()
        run = train_soft_prompt(
            model,
            tokenizer,
            source,
            origin,
            args.n_virtual,
            source_config,
            model_id=args.model_id,
            vector_store=store,
        )
        source_prompts.append(run.model.prompt.static_prompt())
        print(f"  seed {seed} source {source.name}: {time.perf_counter() - started:.0f}s", flush=True)
    inits = {
        "random": origin,
        "vocab": PromptInit(kind="vocab", seed=seed),
        "text": PromptInit(kind="text", text=args.init_text or instruction),
        "vectors": PromptInit(
            kind="vectors", store_dir=str(store), vector_names=tuple(s.name for s in sources)
        ),
    }
    results = {}
    for condition in CONDITIONS:
        started = time.perf_counter()
        if condition == "fusion":
            run = train_fused_prompt(
                model,
                tokenizer,
                [target],
                source_prompts,
                config=target_config,
                instance_aware=True,
                model_id=args.model_id,
            )
        else:
            run = train_soft_prompt(
                model,
                tokenizer,
                target,
                inits[condition],
                args.n_virtual,
                target_config,
                model_id=args.model_id,
            )
        results[condition] = {
            "dev_curve": [list(point) for point in run.result.dev_curve],
            "best_dev": run.result.best_dev_score,
            "best_step": run.result.best_step,
            "test": _test_accuracy(run.model, tokenizer, target, test, args.max_length),
            "seconds": time.perf_counter() - started,
        }
        if condition == "fusion":
            results[condition]["gate"] = run.gate_matrix.tolist()
        curve = " ".join(f"{step}:{score:.2f}" for step, score in run.result.dev_curve)
        print(
            f"  seed {seed} {condition:8s} dev {curve} test {results[condition]['test']:.2f} "
            f"({results[condition]['seconds']:.0f}s)",
            flush=True,
        )
    if len(sources) > 1:
        results["source_vector_cosine"] = similarity_matrix(store).as_rows()
    return results


def summarise(per_seed: dict[int, dict]) -> dict:
    """Mean/std over seeds of the dev curve points, best dev and test accuracy per condition."""
    summary = {}
    for condition in CONDITIONS:
        runs = [per_seed[seed][condition] for seed in per_seed]
        steps = [step for step, _ in runs[0]["dev_curve"]]
        summary[condition] = {
            "dev_by_step": {
                str(step): _mean_std([run["dev_curve"][i][1] for run in runs]) for i, step in enumerate(steps)
            },
            "best_dev": _mean_std([run["best_dev"] for run in runs]),
            "test": _mean_std([run["test"] for run in runs]),
            "seconds": _mean_std([run["seconds"] for run in runs]),
        }
    return summary


def markdown(summary: dict, baselines: dict) -> str:
    """The results table: dev accuracy (mean ± std over seeds) at each evaluated step, then test."""
    steps = list(next(iter(summary.values()))["dev_by_step"])
    header = "| start | " + " | ".join(f"dev @{s}" for s in steps) + " | best dev | test (best-dev prompt) |"
    lines = [header, "|" + "---|" * (len(steps) + 3)]
    for condition, row in summary.items():
        cells = [f"{row['dev_by_step'][s]['mean']:.3f} ± {row['dev_by_step'][s]['std']:.3f}" for s in steps]
        best = f"{row['best_dev']['mean']:.3f} ± {row['best_dev']['std']:.3f}"
        test = f"{row['test']['mean']:.3f} ± {row['test']['std']:.3f}"
        lines.append(f"| {condition} | " + " | ".join(cells) + f" | {best} | {test} |")
    lines.append(f"\nMajority-class baseline: dev {baselines['dev']:.3f}, test {baselines['test']:.3f}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="HF model directory (default: the embedded SmolLM2-135M)")
    parser.add_argument("--model-id", default="smollm2-135m-instruct")
    parser.add_argument("--target", default="multiemo_en")
    parser.add_argument("--sources", default="irony_identification,snarks")
    parser.add_argument("--init-text", help="discrete prompt for (c) (default: the task's instruction)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--source-steps", type=int, default=16)
    parser.add_argument("--eval-every", type=int, default=8)
    parser.add_argument("--n-train", type=int, default=16)
    parser.add_argument("--n-dev", type=int, default=16)
    parser.add_argument("--n-test", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--n-virtual", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--lr", type=float, default=3e-2)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0: torch's default; 1 is best on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    started = time.perf_counter()
    if args.model_dir:
        model_dir = Path(args.model_dir)
    else:
        from orchestrator.local_model import ensure_embedded_model

        model_dir = ensure_embedded_model()
    model, tokenizer = load_base_model(model_dir, plan_devices())
    target, test, instruction, family = load_builtin_split(
        tokenizer, args.target, args.n_train, args.n_dev, args.n_test
    )
    sources = [
        load_builtin_split(tokenizer, name, args.n_train, 0)[0] for name in args.sources.split(",") if name
    ]
    print(
        f"target {target.name} ({family}), sources {[s.name for s in sources]}, instruction {instruction!r}"
    )
    per_seed = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory() as store:
            per_seed[seed] = run_seed(
                args, model, tokenizer, target, test, sources, instruction, seed, Path(store)
            )
    summary = summarise(per_seed)
    baselines = {"dev": _majority(target, target.dev), "test": _majority(target, test)}
    table = markdown(summary, baselines)
    print(table)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} cpus={os.cpu_count()} torch_threads={torch.get_num_threads()}",
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "instruction": instruction,
        "majority_baseline": baselines,
        "summary": summary,
        "per_seed": per_seed,
        "table": table,
        "wall_seconds": time.perf_counter() - started,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
