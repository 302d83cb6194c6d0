"""Label-likelihood scoring throughput of the local backend against one-at-a-time ``generate()``.

Both score the same examples of a built-in task with the embedded SmolLM2-135M-Instruct:

- ``label scoring``: every example sent concurrently through ``LocalBackend.score_labels``; the
  worker micro-batches them into packed forward passes sharing the instruction's KV cache.
- ``label scoring, one at a time``: the same packed scoring, one example per forward pass (what
  batching adds).
- ``generate(), one at a time``: ``model.generate`` per example, greedy, ``--max-new-tokens`` tokens
  (stopping early at the end of turn), the answer read from the text with the evaluator's
  label extractor: what a classifier built on plain generation does.

Usage:
    python benchmarks/local_scoring.py [--task sports_understanding] [--n 64] [--max-new-tokens 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from dataclasses import dataclass


@dataclass
class Row:
    method: str
    examples: int
    seconds: float
    cpu_seconds: float
    accuracy: float

    @property
    def per_second(self) -> float:
        return self.examples / self.seconds


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def messages(task, instruction, example):
    return (("system", instruction), ("user", task.render_input(example)))


def bench_label_scoring(backend, task, examples) -> Row:
    from orchestrator.backends.base import ChatRequest

    async def run():
        requests = [ChatRequest(messages=messages(task, task.instruction, e)) for e in examples]
        return await asyncio.gather(*(backend.score_labels(r, task.labels) for r in requests))

    scores, wall, cpu = timed(lambda: asyncio.run(run()))
    correct = sum(max(s.probs, key=s.probs.get) == e.target for s, e in zip(scores, examples, strict=True))
    return Row("label scoring (concurrent, micro-batched)", len(examples), wall, cpu, correct / len(examples))


def bench_label_scoring_serial(engine, task, examples) -> Row:
    from orchestrator.local_model import ScoreJob

    jobs = [ScoreJob(messages(task, task.instruction, e), task.labels) for e in examples]
    results, wall, cpu = timed(lambda: [engine.score([job])[0] for job in jobs])
    correct = 0
    for result, example in zip(results, examples, strict=True):
        best = max(range(len(task.labels)), key=lambda i: result.logprobs[i])
        correct += task.labels[best] == example.target
    return Row("label scoring, one example at a time", len(examples), wall, cpu, correct / len(examples))


def bench_generate(model, tokenizer, task, examples, max_new_tokens: int) -> Row:
    import torch

    from evaluators import LabelSetExtractor
    from orchestrator.local_model.chat import encode_chat

    extract = LabelSetExtractor(task.labels)
    prompts = [encode_chat(tokenizer, messages(task, task.instruction, e)) for e in examples]

    def run():
        texts = []
        with torch.inference_mode():
            for prompt in prompts:
                ids = torch.tensor([prompt])
                out = model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                )
                texts.append(tokenizer.decode(out[0, len(prompt) :], skip_special_tokens=True))
        return texts

    texts, wall, cpu = timed(run)
    correct = sum(extract(t) == e.target for t, e in zip(texts, examples, strict=True))
    name = f"generate(), one example at a time, max_new_tokens={max_new_tokens}"
    return Row(name, len(examples), wall, cpu, correct / len(examples))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="sports_understanding", help="a built-in task")
    parser.add_argument("--n", type=int, default=64, help="examples (from the task's dev+test splits)")
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)

    import torch

    from orchestrator.backends.base import BackendSettings
    from orchestrator.backends.local import LocalBackend
    from orchestrator.local_model import LocalEngine, LocalModelOptions, load_causal_lm
    from orchestrator.tasks import load_builtin_task

    if args.threads:
        torch.set_num_threads(args.threads)
    task = load_builtin_task(args.task)
    splits = task.splits(seed=0)
    examples = (splits.dev + splits.test)[: args.n]
    model, tokenizer = load_causal_lm("smollm2-135m-instruct", device="cpu")
    engine = LocalEngine("smollm2-135m-instruct", LocalModelOptions(), model=model, tokenizer=tokenizer)
    backend = LocalBackend("smollm2-135m-instruct", BackendSettings(timeout=3600), engine=engine)
    engine.score([engine_warmup_job(task, examples[0])])  # first-call allocations out of the timings

    load_before = os.getloadavg()[0]
    rows = [
        bench_label_scoring(backend, task, examples),
        bench_label_scoring_serial(engine, task, examples),
        bench_generate(model, tokenizer, task, examples, args.max_new_tokens),
    ]
    load_after = os.getloadavg()[0]
    asyncio.run(backend.aclose())

    print(f"task {task.name}, {len(examples)} examples, labels {list(task.labels)}")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
    print(f"{machine}, {torch.get_num_threads()} threads, load average {load_before:.1f} -> {load_after:.1f}")
    print()
    print("| method | examples/s | wall s | CPU s | accuracy | speed-up vs generate() |")
    print("|---|---:|---:|---:|---:|---:|")
    baseline = rows[-1].per_second
    for row in rows:
        print(
            f"| {row.method} | {row.per_second:.2f} | {row.seconds:.1f} | {row.cpu_seconds:.1f} | "
            f"{row.accuracy:.3f} | {row.per_second / baseline:.1f}x |"
        )


def engine_warmup_job(task, example):
    from orchestrator.local_model import ScoreJob

    return ScoreJob(messages(task, task.instruction, example), task.labels)


if __name__ == "__main__":
    main()
