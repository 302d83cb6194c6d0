"""Shared parts of the soft-prompt throughput benchmarks: training-step runners and memory probes.

Each runner wraps one implementation behind ``step(batch)``; the benchmarks feed every runner the same
pre-built batches, interleaving them step by step so background load hits all of them alike.
"""

from __future__ import annotations

import ctypes
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from soft_prompts.api import prompted_for_training
from soft_prompts.config import FusionConfig, TrainConfig
from soft_prompts.data import EncodedBatch
from soft_prompts.fusion import GatedPromptFusion
from soft_prompts.prompt import PromptEmbedding
from soft_prompts.train_step import PromptTrainer

MODES = ("peft", "ours", "ours_fp32", "fusion", "fusion_instance")


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class MemoryProbe:
    """Peak memory of one step: CUDA ``max_memory_allocated``, or CPU peak RSS via ``/proc/self/clear_refs``.

    On CPU, freed heap is handed back to the OS (``malloc_trim``) and the kernel's peak-RSS mark reset before
    each step, so one process can measure several implementations in turn.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._libc = None
        if device.type == "cpu":
            try:
                self._libc = ctypes.CDLL("libc.so.6")
            except OSError:
                self._libc = None

    def start(self) -> int:
        """Reset the peak; returns the current usage in bytes (the baseline)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            return torch.cuda.memory_allocated(self.device)
        if self._libc is not None:
            self._libc.malloc_trim(0)
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            pass
        return (_status_kb("VmRSS") or 0) * 1024

    def peak(self) -> int:
        """Peak usage in bytes since :meth:`start`."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            return torch.cuda.max_memory_allocated(self.device)
        return (_status_kb("VmHWM") or 0) * 1024


@dataclass
class ModeStats:
    """Per-step measurements of one implementation."""

    seconds: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    peak_bytes: list[int] = field(default_factory=list)
    step_bytes: list[int] = field(default_factory=list)
    real_tokens: list[int] = field(default_factory=list)
    padded_positions: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        rates = [tokens / seconds for tokens, seconds in zip(self.tokens, self.seconds, strict=True)]
        return {
            "steps": len(rates),
            "tokens_per_s_median": statistics.median(rates),
            "tokens_per_s_min": min(rates),
            "tokens_per_s_max": max(rates),
            "seconds_per_step_median": statistics.median(self.seconds),
            "peak_mib_median": statistics.median(self.peak_bytes) / 2**20,
            "step_mib_median": statistics.median(self.step_bytes) / 2**20,
            "real_tokens_per_s": sum(self.real_tokens) / sum(self.seconds),
            "padding_fraction": 1 - sum(self.real_tokens) / sum(self.padded_positions),
        }

    def real_tokens_per_s_by_repeat(self, steps_per_repeat: int) -> list[float]:
        """Real (non-padding) tokens per second of each run of ``steps_per_repeat`` kept steps (an epoch)."""
        rates = []
        for start in range(0, len(self.seconds) - steps_per_repeat + 1, steps_per_repeat):
            window = slice(start, start + steps_per_repeat)
            rates.append(sum(self.real_tokens[window]) / sum(self.seconds[window]))
        return rates


def prompt_init(base_model, n_virtual: int, seed: int) -> torch.Tensor:
    """Random prompt at the embedding scale (fp32)."""
    embeddings = base_model.get_input_embeddings().weight.detach().float()
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n_virtual, embeddings.shape[1], generator=generator) * float(embeddings.std())


def peft_runner(
    base_model, n_virtual: int, learning_rate: float, grad_clip: float
) -> Callable[[EncodedBatch], float]:
    """Standard PEFT prompt tuning: ``PeftModel(input_ids, attention_mask, labels).loss``, AdamW, clipping."""
    from peft import PromptTuningConfig, TaskType, get_peft_model

    config = PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=n_virtual)
    peft_model = get_peft_model(base_model, config)
    device = base_model.get_input_embeddings().weight.device
    with torch.no_grad():
        peft_model.prompt_encoder["default"].embedding.weight.copy_(prompt_init(base_model, n_virtual, 0))
    peft_model.prompt_encoder.to(device)
    parameters = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate)

    def step(batch: EncodedBatch) -> float:
        loss = peft_model(
            input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=batch.labels
        ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


def ours_runner(
    base_model, n_virtual: int, config: TrainConfig, pool_size: int = 0, instance_aware: bool = False
) -> Callable[[EncodedBatch], float]:
    """This package's training step: a single prompt (``pool_size=0``) or a gated fusion over two tasks."""
    if pool_size == 0:
        prompt = PromptEmbedding(prompt_init(base_model, n_virtual, 0))
        num_tasks = 1
    else:
        num_tasks = 2
        pool = torch.stack([prompt_init(base_model, n_virtual, seed) for seed in range(pool_size)])
        fusion_config = FusionConfig(
            num_tasks=num_tasks,
            pool_size=pool_size,
            n_virtual_tokens=n_virtual,
            token_dim=pool.shape[-1],
            instance_aware=instance_aware,
        )
        prompt = GatedPromptFusion(fusion_config, pool)
    model = prompted_for_training(base_model, prompt, config)
    trainer = PromptTrainer(model, num_tasks, config)

    def step(batch: EncodedBatch) -> float:
        if num_tasks > 1:
            # Alternate task ids so the multi-task path (per-task losses, loss weights) is exercised.
            batch = EncodedBatch(
                batch.input_ids,
                batch.attention_mask,
                batch.labels,
                torch.arange(batch.input_ids.shape[0], device=batch.input_ids.device) % num_tasks,
            )
        loss, _, _ = trainer.step(batch)
        return loss

    return step


def run_interleaved(
    runners: dict[str, Callable[[EncodedBatch], float]],
    batches: list[EncodedBatch] | dict[str, list[EncodedBatch]],
    n_virtual: int,
    warmup: int,
    device: torch.device,
    log: Callable[[str], None] = print,
) -> dict[str, ModeStats]:
    """Run every runner on every batch in a rotating order; the first ``warmup`` steps are not kept.

    ``batches`` is one list that every runner gets, or one list per runner (equally long: step ``i`` of every
    runner runs in round ``i``).
    """
    names = list(runners)
    per_runner = batches if isinstance(batches, dict) else dict.fromkeys(names, batches)
    rounds = {len(per_runner[name]) for name in names}
    if len(rounds) != 1:
        raise ValueError(f"run_interleaved: runners have different numbers of batches {sorted(rounds)}")
    stats = {name: ModeStats() for name in names}
    probe = MemoryProbe(device)
    for index in range(rounds.pop()):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            batch = per_runner[name][index]
            baseline = probe.start()
            started = time.perf_counter()
            loss = runners[name](batch)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds = time.perf_counter() - started
            peak = probe.peak()
            tokens = batch.num_tokens + batch.input_ids.shape[0] * n_virtual
            log(f"step {index:3d} {name:16s} {seconds:7.2f}s {tokens / seconds:9.1f} tok/s loss {loss:.3f}")
            if index >= warmup:
                stats[name].seconds.append(seconds)
                stats[name].tokens.append(tokens)
                stats[name].peak_bytes.append(peak)
                stats[name].step_bytes.append(max(0, peak - baseline))
                stats[name].real_tokens.append(batch.num_tokens)
                stats[name].padded_positions.append(batch.input_ids.numel())
    return stats


def seed_averaged_comparison(a_runs: list[list[int]], b_runs: list[list[int]], resamples: int = 2000) -> dict:
    """``a - b`` test accuracy on the same examples (the seeds' claims, issue 21): each example's correctness
    averaged over the seeds first (``a_runs[i]`` and ``b_runs[i]`` are seed i's 1/0 per example), then a
    95% paired bootstrap over the examples.

    Returns:
        ``n``, ``a_mean``, ``b_mean``, ``difference``, ``low``, ``high`` and ``verdict`` ("a better" / "a
        worse" where the interval excludes 0, else "no difference shown").
    """
    import numpy as np

    from evaluators.bootstrap import paired_bootstrap

    mean_a, mean_b = np.mean(a_runs, axis=0), np.mean(b_runs, axis=0)
    gap = paired_bootstrap(
        lambda idx: float(mean_a[idx].mean()),
        lambda idx: float(mean_b[idx].mean()),
        len(mean_a),
        n_resamples=resamples,
    ).difference
    return {
        "n": len(mean_a),
        "a_mean": float(mean_a.mean()),
        "b_mean": float(mean_b.mean()),
        "difference": gap.estimate,
        "low": gap.low,
        "high": gap.high,
        "verdict": "a better" if gap.low > 0 else ("a worse" if gap.high < 0 else "no difference shown"),
    }
