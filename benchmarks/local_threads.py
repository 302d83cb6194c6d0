"""Sampled generation on the embedded model with N torch threads: what a shared CPU machine prefers.

Three concurrent requests of 40 sampled tokens each (temperature 0.9) on SmolLM2-135M-Instruct,
after the model is loaded; prints the wall time. Run it once per setting, interleaved, on the same
machine: on a 2-core machine shared with other jobs, torch's default (one thread per core) spends
most of its time waiting for the busy other core.

Usage:
    python benchmarks/local_threads.py none   # torch's default
    python benchmarks/local_threads.py 1
"""

from __future__ import annotations

import asyncio
import sys
import time


async def main(threads: int | None) -> None:
    from orchestrator.gateway import GatewaySettings, build_gateway

    options = {} if threads is None else {"threads": threads}
    settings = GatewaySettings(
        model="local/smollm2-135m-instruct", concurrency=8, timeout=1800.0, options=options
    )
    async with build_gateway(settings, role="reference") as gateway:
        await gateway.backend.load()
        messages = [
            {
                "role": "user",
                "content": "Write a short instruction for a yes/no question answering task. " * 25,
            }
        ]
        started = time.perf_counter()
        await asyncio.gather(*(gateway.chat(messages, temperature=0.9, max_tokens=40) for _ in range(3)))
        print(f"threads={threads}: 3 x 40 tokens in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main(None if sys.argv[1:] in ([], ["none"]) else int(sys.argv[1])))
