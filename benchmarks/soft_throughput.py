"""Prompt-tuning throughput and peak memory: this package vs PEFT, and gated fusion vs a single prompt.

Same model, same batches (a built-in task, left-padded, truncated to --max-length), same batch size and number
of virtual tokens, same optimiser (AdamW) and clipping. The implementations run interleaved step by step in
one process, in a rotating order, so background load on a shared machine hits them alike; medians over the
kept steps are reported.

    python benchmarks/soft_throughput.py --steps 10 --warmup 2 --out benchmarks/results/soft_throughput.json

Length bucketing (issue 15) on a task whose inputs vary in length, untruncated, the trainer's bucketed batches
against random ones, interleaved, three epochs of the same 64 examples each:

    python benchmarks/soft_throughput.py --threads 1 --task vitaminc_fact_verification --max-length 512 \
        --bucketing both --repeats 3 --warmup 2 --modes ours --out benchmarks/results/soft_bucketing.json

The model defaults to the embedded SmolLM2-135M-Instruct (converted on first use by
``orchestrator.local_model.ensure_embedded_model``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_bench_common import MODES, ours_runner, peft_runner, run_interleaved  # noqa: E402

from soft_prompts.config import TrainConfig  # noqa: E402
from soft_prompts.data import collate, pad_token_id, tokenize_examples  # noqa: E402
from soft_prompts.devices import cpu_has_fast_bf16, load_base_model, plan_devices  # noqa: E402
from soft_prompts.trainer import batch_sampler  # noqa: E402


def build_batches(
    tokenizer, task_name: str, count: int, config: TrainConfig, device, n_train: int = 0, seed: int = 0
):
    """``count`` batches of one built-in task, drawn by the trainer's own sampler (``batch_sampler``: length
    bucketing as ``config.bucket_batches`` says, 1 for none)."""
    from soft_repro_tasks import load_builtin_task_data

    n_train = n_train or max(64, config.batch_size * 4)
    task = load_builtin_task_data(tokenizer, task_name, n_train=n_train, n_dev=0, seed=0)
    rows = tokenize_examples(tokenizer, task.train, config.max_length)
    sampler = batch_sampler([rows], replace(config, seed=seed))
    pad_id = pad_token_id(tokenizer)
    return [
        collate([rows[index] for _, index in sampler.sample(config.batch_size)], pad_id).to(device)
        for _ in range(count)
    ]


def bucketed_streams(tokenizer, args, config: TrainConfig, device) -> tuple[dict[str, list], int]:
    """Per bucketing setting (``random``: ``bucket_batches=1``; ``bucketed``: the trainer's default), the
    warm-up batches (their own seed) followed by ``--repeats`` epochs of the same ``--train-examples``.

    Returns:
        ``({setting: batches}, steps per epoch)``.
    """
    steps_per_epoch = math.ceil(args.train_examples / args.batch_size)
    settings = {"random": 1, "bucketed": TrainConfig().bucket_batches}
    if args.bucketing != "both":
        settings = {
            k: v for k, v in settings.items() if k == ("bucketed" if args.bucketing == "on" else "random")
        }
    streams = {}
    for name, chunk in settings.items():
        chunked = replace(config, bucket_batches=chunk)
        warmup = build_batches(
            tokenizer, args.task, args.warmup, chunked, device, args.train_examples, seed=1
        )
        epochs = build_batches(
            tokenizer, args.task, args.repeats * steps_per_epoch, chunked, device, args.train_examples
        )
        streams[name] = warmup + epochs
    return streams, steps_per_epoch


def bucketing_results(stats, runners, steps_per_epoch: int) -> dict:
    """Real tokens/s per epoch (median of the repeats) and padding fraction of each runner, and the paired
    bucketed / random ratio per epoch when both ran."""
    out = {}
    for name in runners:
        rates = stats[name].real_tokens_per_s_by_repeat(steps_per_epoch)
        out[name] = {
            "real_tokens_per_s_by_repeat": [round(r, 1) for r in rates],
            "real_tokens_per_s_median": statistics.median(rates),
            "padding_fraction": stats[name].summary()["padding_fraction"],
        }
    for name in runners:
        if name.endswith("/bucketed") and name.replace("/bucketed", "/random") in runners:
            base = out[name.replace("/bucketed", "/random")]["real_tokens_per_s_by_repeat"]
            ratios = [b / r for b, r in zip(out[name]["real_tokens_per_s_by_repeat"], base, strict=True)]
            out[name]["over_random_by_repeat"] = [round(r, 3) for r in ratios]
            out[name]["over_random_median"] = statistics.median(ratios)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="HF model directory (default: the embedded SmolLM2-135M)")
    parser.add_argument("--task", default="causal_judgment", help="built-in task providing the text")
    parser.add_argument("--steps", type=int, default=10, help="steps per implementation, warm-up included")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--n-virtual", type=int, default=20)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {MODES}")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: automatic)")
    parser.add_argument("--out", type=Path, help="write the JSON results here")
    parser.add_argument(
        "--bucketing",
        choices=("off", "on", "both"),
        default=None,
        help="length bucketing of the batches (off: random batches; on: the trainer's bucketing; both: each "
        "mode on both, interleaved). Set: the batches are --repeats epochs of --train-examples, untruncated "
        "up to --max-length, and real (non-padding) tokens/s per epoch are reported",
    )
    parser.add_argument("--repeats", type=int, default=3, help="epochs measured with --bucketing")
    parser.add_argument("--train-examples", type=int, default=64, help="examples per epoch with --bucketing")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0: torch's default; 1 is best on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    plan = plan_devices(args.device)
    if args.model_dir:
        model_dir = Path(args.model_dir)
    else:
        from orchestrator.local_model import ensure_embedded_model

        model_dir = ensure_embedded_model()
    base_model, tokenizer = load_base_model(model_dir, plan)
    device = base_model.get_input_embeddings().weight.device
    config = TrainConfig(batch_size=args.batch_size, learning_rate=3e-2, max_length=args.max_length)
    factories = {
        "peft": lambda: peft_runner(
            base_model, args.n_virtual, config.learning_rate, config.grad_clip or 1.0
        ),
        "ours": lambda: ours_runner(base_model, args.n_virtual, config),
        "ours_fp32": lambda: ours_runner(base_model, args.n_virtual, replace(config, precision="fp32")),
        "fusion": lambda: ours_runner(base_model, args.n_virtual, config, pool_size=args.pool_size),
        "fusion_instance": lambda: ours_runner(
            base_model, args.n_virtual, config, pool_size=args.pool_size, instance_aware=True
        ),
    }
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if args.bucketing is None:
        batches = build_batches(tokenizer, args.task, args.steps, replace(config, bucket_batches=1), device)
        runners = {mode: factories[mode]() for mode in modes}
        stats = run_interleaved(runners, batches, args.n_virtual, args.warmup, device)
        all_batches = batches
    else:
        streams, steps_per_epoch = bucketed_streams(tokenizer, args, config, device)
        runners = {f"{mode}/{kind}": factories[mode]() for mode in modes for kind in streams}
        per_runner = {name: streams[name.split("/")[1]] for name in runners}
        stats = run_interleaved(runners, per_runner, args.n_virtual, args.warmup, device)
        all_batches = [batch for stream in streams.values() for batch in stream]
        modes = list(runners)
    summary = {mode: stats[mode].summary() for mode in modes}
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"torch_threads={torch.get_num_threads()} device={device}",
        "torch": torch.__version__,
        "model_dir": str(model_dir),
        "settings": vars(args) | {"out": str(args.out) if args.out else None, "model_dir": str(model_dir)},
        "precision_ours": str(config.precision),
        "cpu_fast_bf16": cpu_has_fast_bf16(),
        "mean_padded_length": sum(b.input_ids.shape[1] for b in all_batches) / len(all_batches),
        "summary": summary,
    }
    if args.bucketing is not None:
        result["bucketing"] = bucketing_results(stats, runners, steps_per_epoch)
    for ours in ("ours", "ours_fp32"):
        if "peft" in summary and ours in summary:
            # Paired: each round runs every mode back to back on the same batch, so the ratio of one round's
            # times cancels most of the background load that moves between rounds on a shared machine.
            paired = [
                peft_s / ours_s
                for peft_s, ours_s in zip(stats["peft"].seconds, stats[ours].seconds, strict=True)
            ]
            result[f"{ours}_over_peft_paired_median"] = statistics.median(paired)
            result[f"{ours}_over_peft_paired"] = [round(r, 3) for r in paired]
            result[f"{ours}_over_peft_tokens_per_s"] = (
                summary[ours]["tokens_per_s_median"] / summary["peft"]["tokens_per_s_median"]
            )
            result[f"{ours}_over_peft_peak_memory"] = (
                summary[ours]["peak_mib_median"] / summary["peft"]["peak_mib_median"]
            )
            result[f"{ours}_over_peft_step_memory"] = (
                summary[ours]["step_mib_median"] / summary["peft"]["step_mib_median"]
            )
    for fused in ("fusion", "fusion_instance"):
        if fused in summary and "ours" in summary:
            result[f"{fused}_overhead"] = (
                1 - summary[fused]["tokens_per_s_median"] / summary["ours"]["tokens_per_s_median"]
            )
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
