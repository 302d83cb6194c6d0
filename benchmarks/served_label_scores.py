"""Label scores through the project's OpenAI-compatible server against in-process ``local/`` scoring.

Issue 22 item 8: a scorer ``openai/...`` pointed at ``python -m orchestrator.serve`` scores whole
labels over HTTP (vLLM's ``prompt_logprobs`` on a continued assistant message, ``backends.whole_label``).
This measures how close those label log-probabilities are to the in-process ``LocalBackend.score_labels``
ones on the same examples, and how often the arg-max label agrees; beside them, the first-token
estimate a server without ``prompt_logprobs`` allows (top 20 alternatives of the first answer token,
a label outside them bounded by the 20th). Both sides hold the embedded
SmolLM2-135M-Instruct (two backends, one process; the server on loopback).

Usage:
    python benchmarks/served_label_scores.py [--tasks multiemo_en sports_understanding] [--n 50]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from collections import Counter


def messages(task, example):
    return (("system", task.instruction), ("user", task.render_input(example)))


def argmax_of(scores):
    return [max(s.probs, key=s.probs.get) for s in scores]


async def score_all(backend, requests, labels):
    started = time.perf_counter()
    scores = await asyncio.gather(*(backend.score_labels(r, labels) for r in requests))
    return scores, time.perf_counter() - started


async def compare(task_name: str, n: int, local, remote) -> dict:
    from orchestrator.backends.base import ChatRequest
    from orchestrator.backends.first_token_labels import score_labels_by_first_token
    from orchestrator.tasks import load_builtin_task

    task = load_builtin_task(task_name)
    splits = task.splits(seed=0)
    examples = (splits.dev + splits.test)[:n]
    requests = [ChatRequest(messages=messages(task, e)) for e in examples]
    labels = list(task.labels)
    in_process, local_s = await score_all(local, requests, labels)
    served, served_s = await score_all(remote, requests, labels)
    # What a server without prompt_logprobs gives: the first answer token's top-20 estimate.
    first = await asyncio.gather(
        *(score_labels_by_first_token(remote.complete, "m", r, labels) for r in requests)
    )
    ties = sum(len(set(s.logprobs.values())) == 1 for s in first)  # no alternative starts any label
    first_argmax = [max(s.probs, key=s.probs.get) for s in first]
    first_agree = sum(a == b for a, b in zip(argmax_of(in_process), first_argmax, strict=True))
    diffs = [
        abs(a.logprobs[lab] - b.logprobs[lab])
        for a, b in zip(in_process, served, strict=True)
        for lab in labels
    ]
    argmax = (
        [max(s.probs, key=s.probs.get) for s in in_process],
        [max(s.probs, key=s.probs.get) for s in served],
    )
    agree = sum(a == b for a, b in zip(*argmax, strict=True))
    gold = [e.target for e in examples]
    return {
        "task": task_name,
        "examples": len(examples),
        "labels": labels,
        "max_abs_logprob_diff": max(diffs),
        "mean_abs_logprob_diff": sum(diffs) / len(diffs),
        "argmax_agree": f"{agree}/{len(examples)}",
        "accuracy_in_process": sum(p == g for p, g in zip(argmax[0], gold, strict=True)) / len(gold),
        "accuracy_served": sum(p == g for p, g in zip(argmax[1], gold, strict=True)) / len(gold),
        "first_token_argmax_agree": f"{first_agree}/{len(examples)}",
        "first_token_all_labels_bounded": f"{ties}/{len(examples)}",
        "accuracy_first_token": sum(p == g for p, g in zip(first_argmax, gold, strict=True)) / len(gold),
        "majority_rate": Counter(gold).most_common(1)[0][1] / len(gold),
        "seconds_in_process": round(local_s, 1),
        "seconds_served": round(served_s, 1),
    }


async def main(args) -> None:
    from orchestrator.backends.base import BackendSettings
    from orchestrator.backends.registry import create_backend
    from orchestrator.serve import run_server

    options = {"device": "cpu", "threads": args.threads}
    model = "local/smollm2-135m-instruct"
    local = create_backend(model, BackendSettings(options=options, timeout=600))
    behind_server = create_backend(model, BackendSettings(options=options, timeout=600))
    try:
        async with run_server(behind_server, model_name=model) as url:
            remote = create_backend(f"openai/{model}", BackendSettings(api_base=f"{url}/v1", timeout=600))
            try:
                await remote.probe_label_scoring()
                print(f"label scoring method over HTTP: {remote.label_method}")
                for task_name in args.tasks:
                    print(await compare(task_name, args.n, local, remote), flush=True)
            finally:
                await remote.aclose()
    finally:
        await local.aclose()
        await behind_server.aclose()
    print(f"machine: {platform.processor() or platform.machine()}, threads {args.threads}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["multiemo_en", "sports_understanding"])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
