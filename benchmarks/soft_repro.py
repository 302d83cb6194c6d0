"""Small-scale reproduction: few-shot prompt tuning from five starting points on the embedded model.

For a target task and related source tasks (one built-in family), per seed:

  (a) random      prompt from Gaussian noise at the embedding scale (this is also the seed's *origin*)
  (b) vocab       prompt from randomly sampled vocabulary embeddings
  (c) text        prompt from the task's discrete instruction, tokenised and repeated/truncated
  (d) vectors     origin + sum of the source tasks' task prompt vectors (each source tuned from that origin)
  (e) fusion      instance-aware gated fusion over the tuned source prompts (frozen) plus a target prompt

Each condition trains the same number of steps on the same few-shot data and is scored on dev every
``--eval-every`` steps (step 0 = the starting prompt, i.e. zero-shot). The best-dev prompt is then scored on
a held-out test split. Results: mean and standard deviation over seeds; and, for the seeds' claims
(issue 21), paired differences on the same test examples with 95% bootstrap intervals: each example's
correctness averaged over the seeds, resampled by example (the test split is the same for every seed). The
*discrete* row is the text initialisation untrained: the task's instruction scored by the same scorer on the
same input (issue 21's one-scorer property), i.e. the discrete prompt beside every soft number.

    python benchmarks/soft_repro.py --threads 1 --out benchmarks/results/soft_repro.json

Defaults: sentiment family (target multiemo_en; sources irony_identification and snarks), 16 training
examples, 16 steps of batch 4, 8 virtual tokens, 3 seeds; about 10 CPU-minutes per seed on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
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

from soft_bench_common import seed_averaged_comparison  # noqa: E402
from soft_repro_tasks import load_builtin_split  # noqa: E402

from soft_prompts.api import train_fused_prompt, train_soft_prompt  # noqa: E402
from soft_prompts.config import PromptInit, TrainConfig  # noqa: E402
from soft_prompts.devices import load_base_model, plan_devices  # noqa: E402
from soft_prompts.scoring import label_probabilities  # noqa: E402
from soft_prompts.vectors import similarity_matrix  # noqa: E402

CONDITIONS = ("random", "vocab", "text", "vectors", "fusion")
# The seeds' claims (issue 21) as paired comparisons (a, b): a - b on the same test examples.
CLAIMS = (
    ("vectors", "random"),
    ("vectors", "vocab"),
    ("vectors", "text"),
    ("fusion", "text"),
    ("fusion", "vectors"),
    ("text", "discrete"),
    ("vectors", "discrete"),
    ("fusion", "discrete"),
)


def _test_correct(model, tokenizer, task, test, max_length: int) -> list[int]:
    """1/0 per test example: the label-likelihood arg-max is the gold label."""
    probabilities = label_probabilities(
        model, tokenizer, [e.model_input for e in test], task.labels, [0] * len(test), max_length=max_length
    )
    gold = torch.tensor([task.labels.index(e.target_text) for e in test])
    return [int(v) for v in (probabilities.argmax(dim=-1) == gold).tolist()]


def _discrete(args, model, tokenizer, target, test, instruction: str, seed: int) -> dict:
    """The text initialisation, untrained: the discrete instruction through the same scorer."""
    from soft_prompts.api import prompted_for_training
    from soft_prompts.init import build_initial_prompt
    from soft_prompts.prompt import PromptEmbedding

    started = time.perf_counter()
    init = PromptInit(kind="text", text=args.init_text or instruction)
    initial = build_initial_prompt(init, model, tokenizer, args.n_virtual, model_id=args.model_id)
    config = TrainConfig(max_steps=1, batch_size=args.batch_size, max_length=args.max_length, seed=seed)
    prompted = prompted_for_training(model, PromptEmbedding(initial), config, target.input_prefix)
    correct = _test_correct(prompted, tokenizer, target, test, args.max_length)
    return {
        "test": statistics.fmean(correct),
        "test_correct": correct,
        "seconds": time.perf_counter() - started,
    }


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
    source_prompts, untrained = [], []
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
            warn_untrained=False,
        )
        if not run.result.trained_past_start:
            untrained.append(source.name)
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
    results = {"discrete": _discrete(args, model, tokenizer, target, test, instruction, seed)}
    print(f"  seed {seed} discrete test {results['discrete']['test']:.2f}", flush=True)
    for condition in CONDITIONS:
        started = time.perf_counter()
        if condition == "vectors" and len(untrained) == len(sources):
            # No source moved past its start: no task vector to sum; shown as not run, never as a copy.
            results[condition] = {
                "not_run": f"no source prompt trained past its start ({', '.join(untrained)})"
            }
            print(f"  seed {seed} {condition:8s} not run: {results[condition]['not_run']}", flush=True)
            continue
        if condition == "vectors":
            inits["vectors"] = dataclasses.replace(
                inits["vectors"], vector_names=tuple(s.name for s in sources if s.name not in untrained)
            )
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
        correct = _test_correct(run.model, tokenizer, target, test, args.max_length)
        results[condition] = {
            "dev_curve": [list(point) for point in run.result.dev_curve],
            "best_dev": run.result.best_dev_score,
            "best_step": run.result.best_step,
            "test": statistics.fmean(correct),
            "test_correct": correct,
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
    """Mean/std over seeds of the dev curve points, best dev and test accuracy per condition (a
    condition not run at some seed is left out of the table)."""
    summary = {}
    for condition in CONDITIONS:
        runs = [per_seed[seed][condition] for seed in per_seed]
        if any("not_run" in run for run in runs):
            continue
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


def paired_claims(per_seed: dict[int, dict], resamples: int = 2000) -> list[dict]:
    """Each claim ``a - b`` (``CLAIMS``): test accuracy difference with a 95% paired bootstrap interval
    over the test examples, each example's correctness averaged over the seeds where both ran."""
    rows = []
    for a, b in CLAIMS:
        seeds = [
            s
            for s in per_seed
            if "test_correct" in per_seed[s].get(a, {}) and "test_correct" in per_seed[s].get(b, {})
        ]
        if not seeds:
            rows.append({"a": a, "b": b, "seeds": [], "verdict": "not run"})
            continue
        compared = seed_averaged_comparison(
            [per_seed[s][a]["test_correct"] for s in seeds],
            [per_seed[s][b]["test_correct"] for s in seeds],
            resamples,
        )
        rows.append({"a": a, "b": b, "seeds": seeds, **compared})
    return rows


def claims_markdown(rows: list[dict]) -> str:
    lines = ["| a - b | seeds | test n | a | b | a - b [95% CI] | verdict |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        if not row["seeds"]:
            lines.append(f"| {row['a']} - {row['b']} | - | - | - | - | - | not run |")
            continue
        lines.append(
            f"| {row['a']} - {row['b']} | {','.join(map(str, row['seeds']))} | {row['n']} | "
            f"{row['a_mean']:.3f} | {row['b_mean']:.3f} | "
            f"{row['difference']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}] | {row['verdict']} |"
        )
    return "\n".join(lines)


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
    claims = paired_claims(per_seed)
    discrete = statistics.fmean(per_seed[s]["discrete"]["test"] for s in per_seed)
    table = (
        markdown(summary, baselines)
        + f" Discrete prompt (the text init untrained, {args.init_text or instruction!r}): "
        + f"test {discrete:.3f}."
        + "\n\n"
        + claims_markdown(claims)
    )
    print(table)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} cpus={os.cpu_count()} torch_threads={torch.get_num_threads()}",
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "instruction": instruction,
        "majority_baseline": baselines,
        "summary": summary,
        "claims": claims,
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
