"""Gateway overhead benchmark against a loopback fake OpenAI server in a separate process.

Measured in one run, against one server (``python -m tests.fakeserver``), so its CPU is not counted:

(a) 200 calls at concurrency 20 with 0.5 s latency through the gateway: wall time vs the ideal 5.0 s;
(b) 200 calls at concurrency 20 with 0.1 s latency: gateway (openai backend, cache + limiter +
    ledger + retries on) vs the bare openai SDK with the same client settings, wall time and client
    CPU per call; bare httpx and raw litellm for scale;
(c) optional (``--rate-window``): a 600 requests/min limit, counted by the server over one minute;
(d) the CPU cost of a cache hit.

Usage: ``python -m benchmarks.gateway_bench [--repeats 3] [--rate-window] [--markdown PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from orchestrator.backends.base import BackendSettings
from orchestrator.backends.json_http import JsonHttpClient
from orchestrator.backends.litellm_backend import import_litellm
from orchestrator.backends.openai_backend import OpenAIBackend
from orchestrator.gateway import Gateway, GatewaySettings, Ledger, ResponseCache

MODEL = "bench-model"  # unknown to the price table: no cost lookups on either side
KEY = "sk-bench"
CALLS, CONCURRENCY = 200, 20


@dataclass
class Measurement:
    name: str
    calls: int
    wall_s: float
    cpu_s: float

    @property
    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_s / self.calls


class ServerProcess:
    """``python -m tests.fakeserver`` on an ephemeral port, in its own process."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakeserver", "--port", "0"],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.process.kill()
            raise RuntimeError(f"fake server did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.control = httpx.Client(base_url=self.url, timeout=10)

    def set_latency(self, seconds: float) -> None:
        self.control.post("/_control/config", json={"latency": seconds}).raise_for_status()

    def reset(self) -> None:
        self.control.post("/_control/reset").raise_for_status()

    def request_starts(self) -> list[float]:
        return self.control.get("/_control/stats").json()["started"]

    def close(self) -> None:
        self.control.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def messages(tag: str, index: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You are a careful assistant. Answer in one short sentence."},
        {"role": "user", "content": f"[{tag}] Question number {index}: what is {index} plus {index}?"},
    ]


async def run_calls(
    name: str, call: Callable[[int], Awaitable[object]], calls: int, limit: int | None
) -> Measurement:
    """Run ``calls`` calls (``limit`` at a time when not None; else the callee limits itself)."""
    semaphore = asyncio.Semaphore(limit) if limit else None

    async def one(index: int) -> None:
        if semaphore is None:
            await call(index)
            return
        async with semaphore:
            await call(index)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return Measurement(name, calls, time.perf_counter() - wall, time.process_time() - cpu)


class Clients:
    """Every client under test, created once (as a real program would) and warmed up."""

    def __init__(self, server: ServerProcess, cache_dir: Path):
        base = f"{server.url}/v1"
        import openai

        self.sdk = openai.AsyncOpenAI(api_key=KEY, base_url=base, timeout=30, max_retries=0)
        self.json_http = JsonHttpClient(base, {"Authorization": f"Bearer {KEY}"}, 30, f"openai/{MODEL}")
        self.httpx = httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=100))
        self.litellm = import_litellm()
        self.base = base
        self.cache = ResponseCache(cache_dir / "bench.sqlite")
        self.ledger = Ledger()
        settings = GatewaySettings(
            model=f"openai/{MODEL}", api_base=base, timeout=30, concurrency=CONCURRENCY
        )
        backend = OpenAIBackend(MODEL, BackendSettings(api_base=base, api_key=KEY, timeout=30))
        self.gateway = Gateway(backend, settings, role="bench", cache=self.cache, ledger=self.ledger)
        self.run = 0

    def tag(self, name: str) -> str:
        self.run += 1
        return f"{name}-{self.run}"  # fresh prompts every run: the gateway's cache must miss

    def bare_sdk(self) -> Callable[[int], Awaitable[object]]:
        tag = self.tag("sdk")
        return lambda i: self.sdk.chat.completions.create(
            model=MODEL, messages=messages(tag, i), max_tokens=32
        )

    def bare_backend_http(self) -> Callable[[int], Awaitable[object]]:
        """The exact HTTP call the openai backend makes (``JsonHttpClient.post``), without the gateway."""
        tag = self.tag("json-http")

        async def call(i: int) -> object:
            body = {"model": MODEL, "messages": messages(tag, i), "max_tokens": 32}
            return await self.json_http.post("/chat/completions", body)

        return call

    def bare_httpx(self) -> Callable[[int], Awaitable[object]]:
        tag = self.tag("httpx")

        async def call(i: int) -> object:
            body = {"model": MODEL, "messages": messages(tag, i), "max_tokens": 32}
            response = await self.httpx.post(
                "/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}
            )
            response.raise_for_status()
            return response.json()

        return call

    def raw_litellm(self) -> Callable[[int], Awaitable[object]]:
        tag = self.tag("litellm")
        fixed = {"model": f"openai/{MODEL}", "api_base": self.base, "api_key": KEY, "max_retries": 0}
        return lambda i: self.litellm.acompletion(
            **fixed, num_retries=0, messages=messages(tag, i), max_tokens=32
        )

    def gateway_calls(self) -> Callable[[int], Awaitable[object]]:
        tag = self.tag("gateway")
        return lambda i: self.gateway.chat(messages(tag, i), max_tokens=32)

    async def warm_up(self) -> None:
        for factory in (
            self.bare_sdk,
            self.bare_backend_http,
            self.bare_httpx,
            self.raw_litellm,
            self.gateway_calls,
        ):
            await run_calls("warm-up", factory(), CONCURRENCY, CONCURRENCY)

    async def aclose(self) -> None:
        await self.sdk.close()
        await self.json_http.aclose()
        await self.httpx.aclose()
        await self.gateway.aclose()
        self.cache.close()


def median(runs: list[Measurement]) -> Measurement:
    return Measurement(
        runs[0].name,
        runs[0].calls,
        statistics.median(m.wall_s for m in runs),
        statistics.median(m.cpu_s for m in runs),
    )


def plan_for(clients: Clients, names: list[str]) -> dict[str, tuple[Callable[[], object], int | None]]:
    """Client name -> (call factory, external concurrency limit; None: the gateway limits itself)."""
    every = {
        "bare httpx": (clients.bare_httpx, CONCURRENCY),
        "bare openai SDK": (clients.bare_sdk, CONCURRENCY),
        "bare backend HTTP client": (clients.bare_backend_http, CONCURRENCY),
        "raw litellm": (clients.raw_litellm, CONCURRENCY),
        "gateway (openai backend)": (clients.gateway_calls, None),
    }
    return {name: every[name] for name in names}


async def compare(
    server: ServerProcess, latency: float, plan: dict[str, tuple[Callable, int | None]], repeats: int
) -> dict[str, Measurement]:
    """Interleaved, shuffled repeats of every client at one latency; the medians per client."""
    server.set_latency(latency)
    runs: dict[str, list[Measurement]] = {name: [] for name in plan}
    order = list(plan)
    shuffle = random.Random(0).shuffle
    for _ in range(repeats):
        shuffle(order)  # no client always runs right after the same neighbour
        for name in order:
            factory, limit = plan[name]
            runs[name].append(await run_calls(name, factory(), CALLS, limit))
    return {name: median(values) for name, values in runs.items()}


async def cache_hits(clients: Clients, hits: int = 2000) -> float:
    """(d): CPU ms per cache hit, over prompts answered once before."""
    tag = clients.tag("hits")
    for i in range(100):
        await clients.gateway.chat(messages(tag, i), max_tokens=32)
    started = time.process_time()
    for round_ in range(hits // 100):
        for i in range(100):
            completion = await clients.gateway.chat(messages(tag, i), max_tokens=32)
            assert completion.cached, (round_, i)
    return 1000 * (time.process_time() - started) / hits


async def rate_window(server: ServerProcess, cache_dir: Path, rpm: float = 600.0) -> tuple[int, float]:
    """(c): requests the server saw in the first 60 s of a saturated 600/min gateway."""
    server.set_latency(0.05)
    server.reset()
    base = f"{server.url}/v1"
    settings = GatewaySettings(model=f"openai/{MODEL}", api_base=base, timeout=30, concurrency=50, rpm=rpm)
    backend = OpenAIBackend(MODEL, BackendSettings(api_base=base, api_key=KEY, timeout=30))
    gateway = Gateway(backend, settings, role="rate")
    tag = f"rate-{time.time()}"
    work = asyncio.gather(*(gateway.chat(messages(tag, i), max_tokens=8) for i in range(int(rpm * 1.25))))
    await asyncio.sleep(62)
    work.cancel()
    await asyncio.gather(work, return_exceptions=True)
    await gateway.aclose()
    starts = sorted(server.request_starts())
    in_window = sum(1 for t in starts if t < starts[0] + 60.0)
    return in_window, in_window / rpm - 1.0


NOTES = [
    "Notes:",
    "",
    "- *bare openai SDK* is `AsyncOpenAI.chat.completions.create` with the gateway's client settings"
    " (`max_retries=0`, same timeout, one client reused). The gateway's openai backend sends the same"
    " JSON through `orchestrator/backends/json_http.py` (one aiohttp session); *bare backend HTTP"
    " client* is that exact call without the gateway, so (b') isolates what the gateway and the backend"
    " add (request building, response parsing, cache lookup and write, limiter, timeout, ledger, retry"
    " fast path).",
    "- The gateway runs with its SQLite cache on (every call a miss), the limiter at concurrency 20 and"
    " the ledger on; the bare clients are limited by an `asyncio.Semaphore(20)`.",
    "- This machine has 2 cores shared with other jobs (see the load average): single runs spread by"
    " about +-20%, hence interleaved repeats and medians.",
]


def report(results: dict[str, object], command: str) -> str:
    b: dict[str, Measurement] = results["overhead"]
    sdk, gateway = b["bare openai SDK"], b["gateway (openai backend)"]
    raw = b["bare backend HTTP client"]
    a: Measurement = results["throughput"]["gateway (openai backend)"]
    before, after = results["load"]
    lines = [
        "# Gateway benchmark",
        "",
        f"- Command: `{command}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
        f" 1-min load average {before[0]:.1f} before, {after[0]:.1f} after (a shared machine)",
        f"- Server: `python -m tests.fakeserver` in a separate process on 127.0.0.1; {CALLS} calls at"
        f" concurrency {CONCURRENCY}; every figure is the median of {results['repeats']} interleaved repeats"
        " in shuffled order; CPU is this (client) process's user + system time.",
        "",
        "| target | measured | limit | ok |",
        "|---|---|---|---|",
        f"| (a) 200 calls, conc. 20, 0.5 s latency | {a.wall_s:.2f} s | 5.75 s (1.15 x 5.0) |"
        f" {'yes' if a.wall_s <= 5.75 else 'NO'} |",
        f"| (b) wall, gateway / bare SDK @ 0.1 s | {gateway.wall_s / sdk.wall_s:.3f} | 1.15 |"
        f" {'yes' if gateway.wall_s <= 1.15 * sdk.wall_s else 'NO'} |",
        f"| (b) CPU per call, gateway / bare SDK | {gateway.cpu_s / sdk.cpu_s:.3f} | 1.15 |"
        f" {'yes' if gateway.cpu_s <= 1.15 * sdk.cpu_s else 'NO'} |",
        f"| (b') wall, gateway / bare backend HTTP client | {gateway.wall_s / raw.wall_s:.3f} | 1.15 |"
        f" {'yes' if gateway.wall_s <= 1.15 * raw.wall_s else 'NO'} |",
        f"| (b') CPU per call, gateway / bare backend HTTP client | {gateway.cpu_s / raw.cpu_s:.3f} | 1.15 |"
        f" {'yes' if gateway.cpu_s <= 1.15 * raw.cpu_s else 'NO'} |",
    ]
    if results.get("rate") is not None:
        count, error = results["rate"]
        verdict = "yes" if abs(error) <= 0.05 else "NO"
        lines.append(f"| (c) 600 rpm, requests in 60 s | {count} ({error:+.1%}) | ±5% | {verdict} |")
    else:
        lines.append("| (c) 600 rpm window | not run (pass `--rate-window`) | ±5% | - |")
    hit = results["cache_hit_ms"]
    lines += [
        f"| (d) cache hit CPU | {hit:.3f} ms | 1 ms | {'yes' if hit < 1 else 'NO'} |",
        "",
        f"Per client at 0.1 s latency ({CALLS} calls, concurrency {CONCURRENCY}, ideal 1.0 s):",
        "",
        "| client | wall (s) | CPU per call (ms) |",
        "|---|---|---|",
    ]
    lines += [f"| {m.name} | {m.wall_s:.2f} | {m.cpu_ms_per_call:.2f} |" for m in b.values()]
    lines += [
        "",
        "At 0.5 s latency (ideal 5.0 s):",
        "",
        "| client | wall (s) | CPU per call (ms) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {m.name} | {m.wall_s:.2f} | {m.cpu_ms_per_call:.2f} |" for m in results["throughput"].values()
    ]
    lines += ["", *NOTES]
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    load_before = os.getloadavg()
    server = ServerProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clients = Clients(server, Path(tmp))
            try:
                server.set_latency(0.1)
                await clients.warm_up()
                results: dict[str, object] = {"repeats": args.repeats}
                everyone = ["bare httpx", "bare openai SDK", "bare backend HTTP client", "raw litellm"]
                everyone.append("gateway (openai backend)")
                results["overhead"] = await compare(server, 0.1, plan_for(clients, everyone), args.repeats)
                at_half_second = ["bare httpx", "bare openai SDK", "gateway (openai backend)"]
                results["throughput"] = await compare(
                    server, 0.5, plan_for(clients, at_half_second), args.repeats
                )
                results["cache_hit_ms"] = await cache_hits(clients)
            finally:
                await clients.aclose()
            results["rate"] = await rate_window(server, Path(tmp)) if args.rate_window else None
            results["load"] = (load_before, os.getloadavg())
            return results
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of (b)")
    parser.add_argument("--rate-window", action="store_true", help="also run (c): takes about 65 s")
    parser.add_argument("--markdown", type=Path, help="write the report here as well")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    text = report(results, "python -m benchmarks.gateway_bench " + " ".join(sys.argv[1:]))
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    print(json.dumps({k: str(v) for k, v in results.items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
