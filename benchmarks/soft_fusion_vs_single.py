"""Gated fusion against single-task prompts, same number of steps, on the embedded model.

Per seed: one text-initialised prompt per task, tuned ``--steps`` steps on that task alone; then a
gated fusion whose pool is those tuned prompts (frozen) plus a zero-initialised target prompt, with a
task-conditioned gate, tuned ``--steps`` steps on all tasks jointly (mixed batches). Each prompt is
scored on dev every ``--eval-every`` steps; the best-dev prompt is scored on dev (per task) and on a
held-out test split. The tables give, per task, the best constant answer of each split, the single prompt's
and the fusion's accuracy (mean and standard deviation over seeds), and the gate's weight on the task's own
prompt. ``--variants`` trains several fusions over the same pool (gate learning rate, gate start, target
prompt, loss weighting, gate temperature), so the variants are compared on identical pools.

Issue 21 (the Dynamic Prompt Fusion claim) adds, per seed and on the same pool:
- *single, 2x steps*: each task's text-initialised prompt tuned twice the steps on its own task, so that
  every contender has had the same number of optimiser steps as the fusion (steps of the pool + its own);
- *shared*: one prompt for all tasks, started from the pool's mean (what the fusion's uniform gate with a
  zero target prompt starts from) and tuned ``--steps`` on the same mixed batches: the fusion without
  its gate;
- *discrete*: each task's instruction untrained (the text initialisation at step 0, the same scorer);
- ``--subset A,B``: the default fusion over those tasks' pool members only (sensitivity to the number
  of tasks);
- paired differences on the same test examples with 95% bootstrap intervals (each example's correctness
  averaged over the seeds), printed and stored as ``claims``.

    python benchmarks/soft_fusion_vs_single.py --threads 1 --out benchmarks/results/soft_fusion_vs_single.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_bench_common import seed_averaged_comparison  # noqa: E402
from soft_repro_tasks import load_builtin_split  # noqa: E402

from soft_prompts.api import train_fused_prompt, train_soft_prompt  # noqa: E402
from soft_prompts.config import PromptInit, TrainConfig  # noqa: E402
from soft_prompts.devices import load_base_model, plan_devices  # noqa: E402
from soft_prompts.fusion import own_prompt_gate_logits  # noqa: E402
from soft_prompts.scoring import label_probabilities  # noqa: E402


def correct(model, tokenizer, task, examples, task_id: int, max_length: int) -> list[int]:
    """1/0 per example: the label-likelihood arg-max of ``model`` (prompted for ``task_id``) is gold."""
    inputs = [e.model_input for e in examples]
    probabilities = label_probabilities(
        model, tokenizer, inputs, task.labels, [task_id] * len(inputs), max_length=max_length
    )
    gold = torch.tensor([task.labels.index(e.target_text) for e in examples])
    return [int(v) for v in (probabilities.argmax(dim=-1) == gold).tolist()]


def accuracy(model, tokenizer, task, examples, task_id: int, max_length: int) -> float:
    """Label-likelihood accuracy of ``model`` (prompted for ``task_id``) on ``examples``."""
    return statistics.fmean(correct(model, tokenizer, task, examples, task_id, max_length))


def scored(model, tokenizer, data, test, task_id: int, max_length: int) -> dict:
    """Dev and test accuracy, and the test examples' correctness (for paired comparisons)."""
    test_correct = correct(model, tokenizer, data, test, task_id, max_length)
    return {
        "dev": accuracy(model, tokenizer, data, data.dev, task_id, max_length),
        "test": statistics.fmean(test_correct),
        "test_correct": test_correct,
    }


def train_majority(task, examples) -> float:
    """The score of always answering the train split's majority label on ``examples``."""
    counts = {label: sum(e.target_text == label for e in task.train) for label in task.labels}
    majority = max(counts, key=counts.get)
    return sum(e.target_text == majority for e in examples) / max(1, len(examples))


def best_constant(task, examples) -> float:
    """The best a constant answer can score on ``examples`` (the share of their most frequent label)."""
    return max(sum(e.target_text == label for e in examples) for label in task.labels) / max(1, len(examples))


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {spread:.3f}"


@dataclass(frozen=True)
class FusionVariant:
    """One way to train the fusion over a fixed pool (the defaults are the campaign's)."""

    name: str = "default"
    gate_lr: float = 1e-2
    temperature: float = 1.0
    own_margin: float = 0.0  # logit gap of each task's own prompt at the start (0: uniform gate)
    target_prompt: bool = True
    loss_weighting: str = "uncertainty"


VARIANTS = {
    "default": FusionVariant(),
    "gate_lr_0.1": FusionVariant("gate_lr_0.1", gate_lr=1e-1),
    "own_start": FusionVariant("own_start", own_margin=4.0),
    "own_start_gate_lr_0.1": FusionVariant("own_start_gate_lr_0.1", gate_lr=1e-1, own_margin=4.0),
    "no_target": FusionVariant("no_target", target_prompt=False),
    "equal_loss": FusionVariant("equal_loss", loss_weighting="equal"),
    # Gate temperature sensitivity (issue 21): the campaign's default is 1.0.
    "temp_0.25": FusionVariant("temp_0.25", temperature=0.25),
    "temp_4": FusionVariant("temp_4", temperature=4.0),
}


def train_config(args, seed: int, **overrides) -> TrainConfig:
    return TrainConfig(
        max_steps=overrides.pop("max_steps", args.steps),
        batch_size=args.batch_size,
        max_length=args.max_length,
        learning_rate=args.lr,
        eval_every=args.eval_every,
        patience=None,
        seed=seed,
        **overrides,
    )


def run_fusion(args, model, tokenizer, tasks, pool, seed: int, variant: FusionVariant) -> dict:
    """One fusion over ``pool`` (pool prompt i is task i's own): dev and test per task, gate, dev curve
    (``tasks`` and ``pool`` in the same order; a subset of both for the task-count sensitivity)."""
    started = time.perf_counter()
    config = train_config(
        args, seed, gate_learning_rate=variant.gate_lr, loss_weighting=variant.loss_weighting
    )
    start_logits = None
    if variant.own_margin > 0:
        start_logits = own_prompt_gate_logits(range(len(pool)), len(pool), variant.own_margin)
    fused = train_fused_prompt(
        model,
        tokenizer,
        [data for data, _, _ in tasks.values()],
        pool,
        config=config,
        temperature=variant.temperature,
        use_target_prompt=variant.target_prompt,
        initial_gate_logits=start_logits,
    )
    gate = fused.gate_matrix.tolist()
    result: dict = {"per_task": {}, "best_dev_mean": fused.result.best_dev_score}
    result["best_step"] = fused.result.best_step
    result["dev_curve"] = [list(point) for point in fused.result.dev_curve]
    for task_id, (name, (data, test, _)) in enumerate(tasks.items()):
        result["per_task"][name] = {
            **scored(fused.model, tokenizer, data, test, task_id, args.max_length),
            "gate_own": gate[task_id][task_id],
        }
    result["seconds"] = time.perf_counter() - started
    print(f"  seed {seed} fusion {variant.name}: {json.dumps(result)}", flush=True)
    return result


def _single(
    args, model, tokenizer, data, test, instruction: str, config: TrainConfig
) -> tuple[dict, torch.Tensor]:
    started = time.perf_counter()
    run = train_soft_prompt(
        model,
        tokenizer,
        data,
        PromptInit(kind="text", text=instruction),
        args.n_virtual,
        config,
        warn_untrained=False,
    )
    single = {
        "best_dev": run.result.best_dev_score,
        "best_step": run.result.best_step,
        "dev_curve": [list(point) for point in run.result.dev_curve],
        **scored(run.model, tokenizer, data, test, 0, args.max_length),
        "seconds": time.perf_counter() - started,
    }
    return single, run.model.prompt.static_prompt()


def _discrete(args, model, tokenizer, data, test, instruction: str, config: TrainConfig) -> dict:
    """The text initialisation untrained: the task's instruction through the same scorer."""
    from soft_prompts.api import prompted_for_training
    from soft_prompts.init import build_initial_prompt
    from soft_prompts.prompt import PromptEmbedding

    initial = build_initial_prompt(
        PromptInit(kind="text", text=instruction), model, tokenizer, args.n_virtual
    )
    prompted = prompted_for_training(model, PromptEmbedding(initial), config, data.input_prefix)
    return scored(prompted, tokenizer, data, test, 0, args.max_length)


def _shared(args, model, tokenizer, tasks, pool, config: TrainConfig) -> dict:
    """One prompt for every task, from the pool's mean, tuned on the tasks' mixed batches."""
    from soft_prompts.api import _common_prefix, prompted_for_training
    from soft_prompts.prompt import PromptEmbedding
    from soft_prompts.trainer import train_prompt

    started = time.perf_counter()
    datas = [data for data, _, _ in tasks.values()]
    prompted = prompted_for_training(
        model, PromptEmbedding(torch.stack(pool).float().mean(dim=0)), config, _common_prefix(datas)
    )
    trained = train_prompt(prompted, tokenizer, datas, config)
    result: dict = {"best_dev_mean": trained.best_dev_score, "best_step": trained.best_step, "per_task": {}}
    result["dev_curve"] = [list(point) for point in trained.dev_curve]
    for name, (data, test, _) in tasks.items():
        result["per_task"][name] = scored(prompted, tokenizer, data, test, 0, args.max_length)
    result["seconds"] = time.perf_counter() - started
    return result


def run_seed(
    args, model, tokenizer, tasks, seed: int, variants: list[FusionVariant], subset: list[str] | None = None
) -> dict:
    """Single prompts per task, then each fusion variant over them; dev and test accuracy per task; with
    ``args.equal_steps`` also the 2x-steps singles and the shared prompt; with ``subset`` the default
    fusion over those tasks only."""
    config = train_config(args, seed)
    result: dict = {"single": {}, "fusion": {}, "discrete": {}}
    pool = []
    for name, (data, test, instruction) in tasks.items():
        result["discrete"][name] = _discrete(args, model, tokenizer, data, test, instruction, config)
        single, prompt = _single(args, model, tokenizer, data, test, instruction, config)
        pool.append(prompt)
        result["single"][name] = single
        print(
            f"  seed {seed} single {name}: test {single['test']:.3f} ({single['seconds']:.0f}s)", flush=True
        )
    if args.equal_steps:
        result["single_2x"] = {}
        longer = train_config(args, seed, max_steps=2 * args.steps)
        for name, (data, test, instruction) in tasks.items():
            result["single_2x"][name] = _single(args, model, tokenizer, data, test, instruction, longer)[0]
            print(f"  seed {seed} single 2x {name}: test {result['single_2x'][name]['test']:.3f}", flush=True)
        result["shared"] = _shared(args, model, tokenizer, tasks, pool, config)
        print(
            f"  seed {seed} shared: "
            f"{json.dumps({n: r['test'] for n, r in result['shared']['per_task'].items()})}"
        )
    for variant in variants:
        result["fusion"][variant.name] = run_fusion(args, model, tokenizer, tasks, pool, seed, variant)
    if subset:
        names = list(tasks)
        kept = {name: tasks[name] for name in subset}
        result["fusion_subset"] = run_fusion(
            args,
            model,
            tokenizer,
            kept,
            [pool[names.index(name)] for name in subset],
            seed,
            VARIANTS["default"],
        )
    return result


def _contender(run: dict, key: str, task: str) -> dict | None:
    """A contender's result for ``task`` in one seed's ``run`` (None: not in this run)."""
    if key.startswith("fusion:"):
        found = run["fusion"].get(key.split(":", 1)[1])
        return found["per_task"].get(task) if found else None
    if key == "fusion_subset":
        found = run.get("fusion_subset")
        return found["per_task"].get(task) if found else None
    if key == "shared":
        return run["shared"]["per_task"].get(task) if "shared" in run else None
    return run.get(key, {}).get(task)


def _best_step(run: dict, key: str, task: str) -> int | None:
    """The best-dev step of a contender in one seed's ``run`` (0: never beat its start on dev, so it
    is its starting prompt; None: not trained, the discrete prompt)."""
    if key.startswith("fusion:"):
        return run["fusion"][key.split(":", 1)[1]].get("best_step")
    if key in ("fusion_subset", "shared"):
        return run[key].get("best_step")
    return run.get(key, {}).get(task, {}).get("best_step")


def paired_claims(per_seed: dict, tasks, variants: list[str], resamples: int = 2000) -> list[dict]:
    """Per task, the claims as ``a - b`` on the same test examples: 95% paired bootstrap interval,
    each example's correctness averaged over the seeds where both ran."""
    pairs = [
        ("fusion:default", "single_2x"),
        ("fusion:default", "single"),
        ("fusion:default", "shared"),
        ("shared", "single_2x"),
        ("single_2x", "discrete"),
        ("fusion:default", "discrete"),
        ("fusion_subset", "fusion:default"),
        *((f"fusion:{v}", "fusion:default") for v in variants if v != "default"),
    ]
    rows = []
    for task in tasks:
        for a, b in pairs:
            seeds = [
                s for s, run in per_seed.items() if _contender(run, a, task) and _contender(run, b, task)
            ]
            if not seeds:
                continue
            compared = seed_averaged_comparison(
                [_contender(per_seed[s], a, task)["test_correct"] for s in seeds],
                [_contender(per_seed[s], b, task)["test_correct"] for s in seeds],
                resamples,
            )
            untrained = {
                side: sum(_best_step(per_seed[s], key, task) == 0 for s in seeds)
                for side, key in (("a", a), ("b", b))
            }
            rows.append(
                {"untrained": untrained, "task": task, "a": a, "b": b, "seeds": len(seeds), **compared}
            )
    return rows


def claims_markdown(rows: list[dict], majority: dict[str, float]) -> str:
    lines = [
        "| task | a - b | seeds | test n | majority | a | b | a - b [95% CI] | verdict "
        "| seeds at their start (a, b) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['a']} - {r['b']} | {r['seeds']} | {r['n']} | {majority[r['task']]:.3f} | "
            f"{r['a_mean']:.3f} | {r['b_mean']:.3f} | "
            f"{r['difference']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] "
            f"| {r['verdict']} | {r['untrained']['a']}, {r['untrained']['b']} |"
        )
    return "\n".join(lines)


def markdown(per_seed: dict[int, dict], tasks, variant: str) -> str:
    """Per task: constants, single vs fusion on dev and test (mean ± sd over seeds), gate on own prompt."""
    lines = [
        "| task | best constant (dev) | single (dev) | fusion (dev) | best constant (test) | single (test) "
        "| fusion (test) | gate on own prompt |",
        "|---|---|---|---|---|---|---|---|",
    ]
    runs = list(per_seed.values())
    for name, (data, test, _) in tasks.items():
        single = [run["single"][name] for run in runs]
        fusion = [run["fusion"][variant]["per_task"][name] for run in runs]
        lines.append(
            f"| {name} | {best_constant(data, data.dev):.3f} | {mean_std([r['best_dev'] for r in single])} "
            f"| {mean_std([r['dev'] for r in fusion])} | {best_constant(data, test):.3f} "
            f"| {mean_std([r['test'] for r in single])} | {mean_std([r['test'] for r in fusion])} "
            f"| {mean_std([r['gate_own'] for r in fusion])} |"
        )
    single_mean = [statistics.fmean(run["single"][n]["best_dev"] for n in tasks) for run in runs]
    fusion_mean = [run["fusion"][variant]["best_dev_mean"] for run in runs]
    constant_mean = statistics.fmean(best_constant(d, d.dev) for d, _, _ in tasks.values())
    lines.append(
        f"| **mean over tasks** | {constant_mean:.3f} "
        f"| {mean_std(single_mean)} | {mean_std(fusion_mean)} | | | | |"
    )
    return "\n".join(lines)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Data, model and training flags shared with ``soft_single_screen.py``."""
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


def load_model(model_dir: str | None):
    """The frozen base model and tokenizer (the embedded SmolLM2-135M unless ``model_dir``)."""
    if model_dir is None:
        from orchestrator.local_model import ensure_embedded_model

        model_dir = ensure_embedded_model()
    return load_base_model(Path(model_dir), plan_devices("cpu"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--variants", default="default", help=f"comma-separated fusion variants, from {sorted(VARIANTS)}"
    )
    parser.add_argument(
        "--equal-steps",
        action="store_true",
        help="also train the 2x-steps single prompts and the shared prompt (issue 21's fusion claim)",
    )
    parser.add_argument("--subset", help="comma-separated tasks: the default fusion over these only, too")
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        help="merge the per-seed results of earlier runs (e.g. one process per seed) instead of training",
    )
    args = parser.parse_args(argv)
    variants = [VARIANTS[name] for name in args.variants.split(",")]
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model_dir)  # the tokenizer formats the tasks' chats
    tasks = {}
    for name in args.tasks.split(","):
        data, test, instruction, _family = load_builtin_split(
            tokenizer, name, args.n_train, args.n_dev, args.n_test
        )
        tasks[name] = (data, test, instruction)
    started = time.perf_counter()
    per_seed = {}
    if args.combine:
        for path in args.combine:
            per_seed |= json.loads(path.read_text())["per_seed"]
    else:
        for seed in [int(s) for s in args.seeds.split(",")]:
            subset = args.subset.split(",") if args.subset else None
            per_seed[seed] = run_seed(args, model, tokenizer, tasks, seed, variants, subset)
    tables = {variant.name: markdown(per_seed, tasks, variant.name) for variant in variants}
    for name, table in tables.items():
        print(f"\nfusion variant {name}: {VARIANTS[name]}\n{table}")
    claims = paired_claims(per_seed, tasks, [v.name for v in variants])
    majority = {n: train_majority(d, t) for n, (d, t, _) in tasks.items()}
    tables["claims"] = claims_markdown(claims, majority)
    print(f"\nclaims (test accuracy, paired):\n{tables['claims']}")
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "settings": vars(args)
        | {"out": str(args.out) if args.out else None, "combine": [str(p) for p in args.combine or []]},
        "variants": {variant.name: dataclasses.asdict(variant) for variant in variants},
        "load_average_end": os.getloadavg(),
        "wall_s": time.perf_counter() - started,
        "train_majority_test": {n: train_majority(d, t) for n, (d, t, _) in tasks.items()},
        "best_constant_dev": {n: best_constant(d, d.dev) for n, (d, _, _) in tasks.items()},
        "best_constant_test": {n: best_constant(d, t) for n, (d, t, _) in tasks.items()},
        "per_seed": per_seed,
        "claims": claims,
        "tables": tables,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
