"""One soft prompt trained data-parallel over several processes (``soft.processes: N``), through Accelerate.

Each process loads the twin itself (on ``cuda:<rank>`` where GPUs are visible, else on the CPU with the gloo
backend), draws the same seeded global batch, trains on its own shard, and Accelerate averages the prompt's
gradients, so a step equals one step on the global batch (``soft_prompts.train_step``). Rank 0 saves the
prompt and its vector, forwards progress, and hands back the record. ``accelerate launch`` of ``promptfusion
soft train`` runs the same training code under an outside launcher instead.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
from pathlib import Path
from typing import Any

from orchestrator.config import SoftConfig
from orchestrator.soft.data import SoftSplits
from orchestrator.soft.results import TrainedPrompt

__all__ = ["train_parallel"]

_DONE = "done"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def train_parallel(
    model_id: str,
    splits: SoftSplits,
    init: Any,
    settings: SoftConfig,
    seed: int,
    out_dir: Path,
    vector_store: Path | None,
    name: str,
    progress: Any = None,
) -> TrainedPrompt:
    """Train one prompt over ``settings.processes`` processes; the arguments are
    :func:`orchestrator.soft.training.train_task_prompt`'s, with the model named (each process loads it).

    Raises:
        RuntimeError: a process failed (its error is in the message).
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # a fork would copy the parent's threads and model
    processes, port = settings.processes, _free_port()
    reports, results = context.Queue(), context.Queue()
    args = (model_id, splits, init, settings, seed, out_dir, vector_store, name)
    workers = [
        context.Process(target=_worker, args=(rank, processes, port, args, reports, results), daemon=True)
        for rank in range(processes)
    ]
    for worker in workers:
        worker.start()
    forwarder = threading.Thread(target=_forward, args=(reports, progress), daemon=True)
    forwarder.start()
    outcomes = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    reports.put(_DONE)
    forwarder.join()
    errors = [payload for kind, payload in outcomes if kind == "error"]
    if errors:
        raise RuntimeError(f"soft training over {processes} processes failed: {errors[0]}")
    return next(TrainedPrompt.model_validate(payload) for kind, payload in outcomes if kind == "record")


def _forward(reports: Any, progress: Any) -> None:
    while True:
        try:
            report = reports.get(timeout=1.0)
        except queue.Empty:
            continue
        if report == _DONE:
            return
        if progress is not None:
            progress(report)


def _worker(rank: int, world: int, port: int, args: tuple, reports: Any, results: Any) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
    )
    try:
        import torch

        from orchestrator.local_model import load_causal_lm
        from orchestrator.soft.training import train_task_prompt

        model_id, splits, init, settings, seed, out_dir, vector_store, name = args
        device = f"cuda:{rank}" if torch.cuda.is_available() and torch.cuda.device_count() >= world else "cpu"
        model, tokenizer = load_causal_lm(model_id, device=device)
        record = train_task_prompt(
            model,
            tokenizer,
            model_id,
            splits,
            init,
            settings,
            seed,
            out_dir,
            vector_store,
            name,
            reports.put if rank == 0 else None,
        )
        results.put(("record", record.model_dump(mode="json")) if rank == 0 else ("ok", None))
    except BaseException as exc:  # the parent reports it; a silent child would hang the run
        results.put(("error", f"rank {rank}: {type(exc).__name__}: {exc}"))
    finally:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
