"""Screen built-in tasks for single-task soft-prompt traction on the embedded model (issue 15, item 5).

Which tasks does single-task prompt tuning lift above a constant answer? Per task and seed: a prompt
initialised from the task's instruction, tuned ``--steps`` steps on that task alone, scored on dev every
``--eval-every`` steps; the best-dev prompt is scored on test. Each row sets the dev score at step 0 (the
text-initialised prompt) and the best dev score beside the best constant answer of the same dev split, and the
test score beside the best constant answer of the test split. Same data preparation and defaults as
``soft_fusion_vs_single.py``, so the tasks it picks can be fed to that script unchanged.

    python benchmarks/soft_single_screen.py --threads 1 --tasks strategyqa,snarks --out /tmp/screen.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_fusion_vs_single import (  # noqa: E402
    accuracy,
    add_common_arguments,
    best_constant,
    load_model,
    train_config,
)
from soft_repro_tasks import load_builtin_split  # noqa: E402

from soft_prompts.api import train_soft_prompt  # noqa: E402
from soft_prompts.config import PromptInit  # noqa: E402


def screen_task(args, model, tokenizer, name: str, seed: int) -> dict:
    """One single-task run: dev curve, best dev, test of the best prompt, constant-answer baselines."""
    data, test, instruction, _family = load_builtin_split(
        tokenizer, name, args.n_train, args.n_dev, args.n_test
    )
    config = train_config(args, seed)
    started = time.perf_counter()
    run = train_soft_prompt(
        model, tokenizer, data, PromptInit(kind="text", text=instruction), args.n_virtual, config
    )
    row = {
        "task": name,
        "seed": seed,
        "dev_constant": best_constant(data, data.dev),
        "dev_curve": [list(point) for point in run.result.dev_curve],
        "best_dev": run.result.best_dev_score,
        "best_step": run.result.best_step,
        "test_constant": best_constant(data, test),
        "test": accuracy(run.model, tokenizer, data, test, 0, args.max_length),
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(row), flush=True)
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        "| task | seed | best constant (dev) | dev at step 0 (text init) | best dev (step) "
        "| best constant (test) | test of best-dev prompt |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['task']} | {row['seed']} | {row['dev_constant']:.3f} | {row['dev_curve'][0][1]:.3f} "
            f"| {row['best_dev']:.3f} ({row['best_step']}) | {row['test_constant']:.3f} | {row['test']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.set_defaults(tasks="strategyqa,sports_understanding,snarks,navigate", seeds="0")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model_dir)
    started = time.perf_counter()
    rows = [
        screen_task(args, model, tokenizer, name, int(seed))
        for seed in args.seeds.split(",")
        for name in args.tasks.split(",")
    ]
    table = markdown(rows)
    print(table)
    if args.out:
        result = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "settings": vars(args) | {"out": str(args.out)},
            "load_average_end": os.getloadavg(),
            "wall_s": time.perf_counter() - started,
            "rows": rows,
            "table": table,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
