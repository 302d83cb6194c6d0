"""Soft against discrete on the product's one label scorer (issue 21, item 5 "soft against discrete").

Per task and seed: the campaign's splits (``SoftSplits``: the first ``--train`` and ``--dev`` examples of
the seeded train/dev splits, the whole test split); the discrete prompt (the task's own instruction, or
``--prompt``) scored on test through ``evaluators.evaluate_prompt`` on the local backend; a soft prompt
initialised from that text with one virtual token per text token (so at step 0 it IS the discrete prompt,
on the same scorer), trained with the stage's ``train_task_prompt`` (best dev step kept), scored on test by
``soft.measure.held_out_row``. Both with the campaign's default calibration (batch). Beside them: the
majority-class rate of the test split, the step-0 soft score (must equal the discrete score), and the
paired bootstrap of soft - discrete on the same examples (``evaluators.compare_predictions``).

    OMP_NUM_THREADS=1 python benchmarks/soft_vs_discrete.py --tasks multiemo_en_polarity --seeds 0,1,2 \\
        --out benchmarks/results/soft_vs_discrete.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluators import compare_predictions, trivial_baselines  # noqa: E402
from orchestrator.config import SoftConfig  # noqa: E402
from orchestrator.local_model import load_causal_lm  # noqa: E402
from orchestrator.soft.data import SoftSplits  # noqa: E402
from orchestrator.soft.measure import SoftPromptScorer, held_out_row, measure_prompt, row_of  # noqa: E402
from orchestrator.soft.training import train_task_prompt  # noqa: E402
from orchestrator.tasks import resolve_task  # noqa: E402
from soft_prompts.checkpoint import save_static_prompt  # noqa: E402
from soft_prompts.config import PromptInit  # noqa: E402
from soft_prompts.init import build_initial_prompt  # noqa: E402


def run_seed(args, model, tokenizer, task_name: str, seed: int, out: Path) -> dict:
    task = resolve_task(task_name)
    prompt = args.prompt or task.instruction
    splits = SoftSplits.of(task, seed, args.train, args.dev)
    n_virtual = len(tokenizer(prompt, add_special_tokens=False).input_ids)
    calibration = "batch"

    async def discrete_row():
        scorer = SoftPromptScorer(model, tokenizer, None)  # no instruction embeds: the discrete path
        try:
            return row_of(
                await measure_prompt(scorer, prompt, splits, calibration=calibration),
                "discrete",
                "discrete",
                seed,
            )
        finally:
            await scorer.aclose()

    started = time.perf_counter()
    discrete = asyncio.run(discrete_row())
    init = PromptInit(kind="text", text=prompt)
    start_dir = save_static_prompt(
        build_initial_prompt(init, model, tokenizer, n_virtual), out / f"{task_name}-{seed}-start"
    )
    step0 = asyncio.run(
        held_out_row(model, tokenizer, splits, start_dir, name="step 0", seed=seed, calibration=calibration)
    )
    settings = SoftConfig(
        n_virtual_tokens=n_virtual,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        train_examples=args.train,
        dev_examples=args.dev,
        eval_every=args.eval_every,
    )
    record = train_task_prompt(
        model,
        tokenizer,
        "smollm2-135m-instruct",
        splits,
        init,
        settings,
        seed,
        out / f"{task_name}-{seed}",
        None,
    )
    soft = asyncio.run(
        held_out_row(
            model, tokenizer, splits, record.prompt_dir, name="soft", seed=seed, calibration=calibration
        )
    )
    targets = [e.target for e in splits.test]
    verdict = compare_predictions(
        soft.predictions,
        discrete.predictions,
        targets,
        task.labels,
        metric="accuracy",
        reference_name="discrete prompt",
        seed=seed,
    )
    majority = trivial_baselines(targets, task.labels, metrics=("accuracy",), seed=seed)[0]
    return {
        "task": task_name,
        "seed": seed,
        "prompt": prompt,
        "n_virtual": n_virtual,
        "test_size": len(targets),
        "majority": {"name": majority.name, "accuracy": majority.scores["accuracy"]},
        "discrete": {"accuracy": discrete.accuracy, "ci": discrete.ci},
        "soft_step0": {
            "accuracy": step0.accuracy,
            "ci": step0.ci,
            "same_answers_as_discrete": step0.predictions == discrete.predictions,
        },
        "soft": {
            "accuracy": soft.accuracy,
            "ci": soft.ci,
            "best_step": record.best_step,
            "best_dev": record.best_dev,
            "trained_past_start": record.trained_past_start,
        },
        "soft_minus_discrete": {
            "estimate": verdict.difference.estimate,
            "ci": [verdict.difference.low, verdict.difference.high],
            "verdict": verdict.kind,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="multiemo_en_polarity")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--prompt", help="discrete prompt (default: each task's instruction)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--train", type=int, default=32)
    parser.add_argument("--dev", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/soft_vs_discrete"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    model, tokenizer = load_causal_lm("smollm2-135m-instruct")
    rows = []
    for task in args.tasks.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            row = run_seed(args, model, tokenizer, task, seed, args.workdir)
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                meta = {
                    "date": datetime.date.today().isoformat(),
                    "args": {k: str(v) for k, v in vars(args).items()},
                }
                args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
