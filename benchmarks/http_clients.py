"""Client CPU per call of the HTTP stacks an OpenAI-compatible backend could use.

Each client sends the same label-scoring request (``max_tokens=1``, ``logprobs`` with 20
``top_logprobs``) ``--calls`` times, at most ``--concurrency`` in flight, to the loopback fake server
in its own process (so its CPU is not counted) answering after ``--latency`` seconds. Reported: wall
time over the ideal (``calls x latency / concurrency``) and this process's CPU per call, the median
of ``--repeats`` interleaved runs.

* ``openai SDK create``: ``AsyncOpenAI.chat.completions.create`` (httpx), one client reused.
* ``openai SDK raw post``: the SDK's ``client.post(..., cast_to=str)`` + ``json.loads``, which skips
  its parameter transform and pydantic models (what our ``openai/`` backend sent before).
* ``promptfusion openai/ backend``: ``OpenAIBackend.complete`` on ``json_http.JsonHttpClient``
  (aiohttp), including the response parsing into a ``Completion``.
* ``bare aiohttp``: ``ClientSession.post`` + ``json.loads``, nothing else (the floor).

Usage: ``python -m benchmarks.http_clients [--calls 320] [--concurrency 16] [--latency 0.1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from benchmarks.search_vs_copro import ServerProcess

BODY = {
    "model": "sim",
    "messages": [
        {"role": "system", "content": "You are an assistant."},
        {"role": "user", "content": "Claim: the sky is green. Answer yes or no."},
    ],
    "max_tokens": 1,
    "temperature": 0.0,
    "logprobs": True,
    "top_logprobs": 20,
}
Client = tuple[Callable[[], Awaitable[object]], Callable[[], Awaitable[None]]]


def _sdk(base: str, raw: bool) -> Client:
    import openai

    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base, timeout=30, max_retries=0)
    if raw:

        async def send() -> object:
            return json.loads(await client.post("/chat/completions", body=BODY, cast_to=str))
    else:

        async def send() -> object:
            return await client.chat.completions.create(**BODY)

    return send, client.close


def _backend(base: str) -> Client:
    from orchestrator.backends.base import BackendSettings, ChatRequest
    from orchestrator.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend("sim", BackendSettings(api_base=base, api_key="sk-bench", timeout=30))
    messages = tuple((m["role"], m["content"]) for m in BODY["messages"])
    request = ChatRequest(messages=messages, temperature=0.0, max_tokens=1, logprobs=True, top_logprobs=20)

    async def send() -> object:
        return await backend.complete(request)

    return send, backend.aclose


def _aiohttp(base: str) -> Client:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    url, headers = base + "/chat/completions", {"Content-Type": "application/json"}

    async def send() -> object:
        async with session.post(url, data=json.dumps(BODY), headers=headers) as response:
            return json.loads(await response.read())

    return send, session.close


CLIENTS: dict[str, Callable[[str], Client]] = {
    "openai SDK create": lambda base: _sdk(base, raw=False),
    "openai SDK raw post": lambda base: _sdk(base, raw=True),
    "promptfusion openai/ backend": _backend,
    "bare aiohttp": _aiohttp,
}


async def _measure(name: str, base: str, calls: int, concurrency: int) -> tuple[float, float]:
    send, close = CLIENTS[name](base)
    slots = asyncio.Semaphore(concurrency)

    async def one() -> object:
        async with slots:
            return await send()

    try:
        await asyncio.gather(*(one() for _ in range(2 * concurrency)))  # connections and imports
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_clients", description=__doc__)
    parser.add_argument("--calls", type=int, default=320)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    server = ServerProcess(args.latency)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in CLIENTS}
    try:
        server.reset(args.latency)
        for repeat in range(args.repeats):
            order = list(CLIENTS) if repeat % 2 == 0 else list(reversed(CLIENTS))
            for name in order:
                measured = _measure(name, server.url + "/v1", args.calls, args.concurrency)
                runs[name].append(asyncio.run(measured))
    finally:
        server.close()
    ideal = args.calls * args.latency / args.concurrency
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} | {platform.platform()} | python {sys.version.split()[0]} | "
        f"{args.calls} calls, concurrency {args.concurrency}, latency {args.latency} s, "
        f"median of {args.repeats}\n"
    )
    print("| client | wall / ideal | client CPU ms/call |\n|---|---:|---:|")
    for name, measured in runs.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(f"| {name} | {wall / ideal:.3f}x | {1000 * cpu / args.calls:.2f} |")


if __name__ == "__main__":
    main()
