"""Concurrency of the search itself: our loop against ``dspy.COPRO`` on the same fake server.

Both tools run the equivalent search (4 candidates per step, 2 steps, the same 20 examples, the same
concurrency limit: DSPy's ``num_threads`` and our ``concurrency``) in one run, one after the other,
against one loopback fake OpenAI server in a separate process (so its CPU is not counted), with a
0.1 s latency per answer. The server answers as a deterministic simulated LLM that understands both
prompt formats (ours, and DSPy's ``[[ ## field ## ]]`` ChatAdapter format, proposer included).
LLM calls are counted from the server's request log; the ideal time is
``calls x latency / concurrency``; the ratio is wall time over ideal. Both caches start empty
(DSPy's is switched off, ours lives in a fresh temporary directory), so every call is really made.

Usage: ``python -m benchmarks.search_vs_copro [--concurrency 8 16] [--repeats 3] [--markdown PATH]``.
The server it starts is ``python -m benchmarks.search_vs_copro serve --port 0 --latency 0.1``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests import simulated_llm
from tests.fakeserver import FakeServer, Reply

BREADTH, DEPTH, EXAMPLES, TASK = 4, 2, 20, "claims_a"
DSPY_FIELD = re.compile(r"\[\[ ## (\w+) ## \]\]")
DSPY_ASK = "Respond with the corresponding output fields"


class DualFormatResponder:
    """The simulated LLM of ``tests/simulated_llm.py``, also fluent in DSPy's ChatAdapter format.

    DSPy sends ``n`` identical requests for ``n`` generations, so a reply may depend on how many
    identical requests came before (the occurrence index); it is otherwise a pure function of the
    request, so a run is deterministic.
    """

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        user = simulated_llm._text(messages[-1].get("content")) if messages else ""
        if DSPY_ASK not in user:
            return simulated_llm.respond(body)
        system = " ".join(simulated_llm._text(m.get("content")) for m in messages if m["role"] == "system")
        asked = DSPY_FIELD.findall(user[user.index(DSPY_ASK) :])
        outputs = [name for name in asked if name != "completed"]
        if "proposed_instruction" in outputs:
            values = self._proposal(body)
        else:
            label, _ = simulated_llm.answer(system, user)
            values = {name: label for name in outputs}
        text = "".join(f"[[ ## {name} ## ]]\n{values.get(name, '')}\n\n" for name in outputs)
        return Reply(text=text + "[[ ## completed ## ]]")

    def _proposal(self, body: dict[str, Any]) -> dict[str, str]:
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            occurrence = self._seen[key]
            self._seen[key] += 1
        seed = int(key[:8], 16) + occurrence
        instruction = simulated_llm.propose(seed).removeprefix("<prompt>").removesuffix("</prompt>")
        return {"proposed_instruction": instruction, "proposed_prefix_for_output_field": "Answer:"}


class DualFormatServer(FakeServer):
    """The fake server answering with a fresh ``DualFormatResponder`` after every reset."""

    def reset(self) -> None:
        super().reset()
        self.script.reset(DualFormatResponder())


async def _serve(port: int, latency: float) -> None:
    server = DualFormatServer(latency=latency, port=port)
    server.script.reset(DualFormatResponder())
    await server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


class ServerProcess:
    """The dual-format fake server on an ephemeral port, in its own process."""

    def __init__(self, latency: float) -> None:
        root = Path(__file__).resolve().parents[1]
        command = [sys.executable, "-m", "benchmarks.search_vs_copro", "serve", "--latency", str(latency)]
        self.process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.process.kill()
            raise RuntimeError(f"fake server did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.control = httpx.Client(base_url=self.url, timeout=10)

    def reset(self, latency: float) -> None:
        self.control.post("/_control/reset").raise_for_status()  # the reset also zeroes the latency
        self.control.post("/_control/config", json={"latency": latency}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return self.control.get("/_control/stats").json()

    def close(self) -> None:
        self.control.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Measurement:
    """One measured span: calls counted by the server, wall and client CPU time, peak in flight."""

    tool: str
    concurrency: int
    calls: int
    wall_s: float
    cpu_s: float
    max_in_flight: int
    best_score: float
    latency: float

    @property
    def ideal_s(self) -> float:
        return self.calls * self.latency / self.concurrency

    @property
    def ratio(self) -> float:
        return self.wall_s / self.ideal_s


def _examples(folder: Path) -> tuple[Path, list[tuple[str, str]]]:
    """The synthetic task file and the 20 dev examples both tools search on (our loop's minibatch)."""
    from orchestrator.config import TaskConfig
    from orchestrator.tasks.resolve import load_configured_task

    path = simulated_llm.write_tasks(folder, names=(TASK,))[TASK]
    task = load_configured_task(TaskConfig(name=TASK, path=str(path)))
    dev = task.splits(0).dev[:EXAMPLES]
    return path, [(task.render_input(e), e.target) for e in dev]


def run_copro(server: ServerProcess, concurrency: int, latency: float, examples) -> Measurement:
    """COPRO, breadth 4, depth 2, ``num_threads=concurrency``, no cache, on ``examples``."""
    import dspy
    from dspy.teleprompt import COPRO

    class Claim(dspy.Signature):
        """You are an assistant."""

        claim: str = dspy.InputField()
        answer: str = dspy.OutputField(desc="yes or no")

    def metric(example, prediction, trace=None) -> bool:
        return str(prediction.answer).strip().lower() == example.answer

    trainset = [dspy.Example(claim=text, answer=label).with_inputs("claim") for text, label in examples]
    lm = dspy.LM("openai/sim", api_base=f"{server.url}/v1", api_key="sk-bench", cache=False, max_tokens=64)
    server.reset(latency)
    optimizer = COPRO(metric=metric, breadth=BREADTH, depth=DEPTH, init_temperature=1.4)
    with dspy.context(lm=lm):
        started, cpu = time.perf_counter(), time.process_time()
        best = optimizer.compile(
            dspy.Predict(Claim),
            trainset=trainset,
            eval_kwargs={"num_threads": concurrency, "display_progress": False},
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    stats = server.stats()
    score = max(c["score"] for c in best.candidate_programs) / 100
    return Measurement(
        "dspy.COPRO", concurrency, stats["count"], wall, cpu, stats["max_in_flight"], score, latency
    )


def _campaign(server: ServerProcess, concurrency: int, task_path: Path, folder: Path):
    from orchestrator.loading import parse_campaign

    model = {"model": "openai/sim", "api_base": f"{server.url}/v1", "max_retries": 1, "timeout": 30}
    task = {"name": TASK, "path": str(task_path)}
    config = {
        "name": "search-vs-copro",
        "models": {
            "reference": {**model, "temperature": 1.0, "concurrency": concurrency},
            "scorer": {**model, "concurrency": concurrency},
        },
        # One task as source and target with no stage-2 rounds: stage 1 is the whole search; the
        # promotion and the finalists' full-dev rescoring then hit the cache (same prompts, same
        # 20 examples); only the held-out test of 2 examples per contender adds calls.
        "tasks": {"source": [task], "target": task, "dev_size": EXAMPLES, "test_size": 2},
        "search": {
            "stage1_iterations": DEPTH,
            "stage2_iterations": 0,
            "candidates_per_step": BREADTH,
            "minibatch_size": EXAMPLES,
            "patience": DEPTH + 1,
            "baseline_prompts": ["You are an assistant."],
        },
        "objective": {"weights": {"accuracy": 1.0}},
        "run": {"store": str(folder / "store.sqlite"), "cache": str(folder / "cache.sqlite"), "seed": 0},
    }
    return parse_campaign(yaml.safe_dump(config), source="search_vs_copro", env={})


def run_ours(
    server: ServerProcess, concurrency: int, latency: float, task_path: Path
) -> tuple[Measurement, Measurement]:
    """Our loop on the equivalent search, with a fresh response cache and run store.

    Returns:
        (the search: start to the finalists' rescoring, as COPRO's compile; the whole run, which
        also scores three prompts on the held-out test split with bootstrap intervals).
    """
    from orchestrator.runner import optimize_async

    marks: dict[str, tuple[float, float]] = {}

    def on_event(kind: str, payload: object) -> None:
        marks.setdefault(kind, (time.perf_counter(), time.process_time()))

    with tempfile.TemporaryDirectory(prefix="pf-search-bench-") as tmp:
        campaign = _campaign(server, concurrency, task_path, Path(tmp))
        server.reset(latency)
        started, cpu, epoch = time.perf_counter(), time.process_time(), time.time()
        result = asyncio.run(optimize_async(campaign, on_event=on_event))
        wall, cpu_all = time.perf_counter() - started, time.process_time() - cpu
    if result.status != "done":
        raise RuntimeError(f"our loop did not finish: {result.message}")
    stats = server.stats()
    best = max(c["scores"]["accuracy"] for c in result.history if c["stage"] == "source")
    search_end, search_cpu = marks["finalists"]
    search_calls = sum(1 for t in stats["started"] if t - epoch <= search_end - started)
    peak = stats["max_in_flight"]
    search_wall, search_cpu = search_end - started, search_cpu - cpu
    search = Measurement(
        "promptfusion (search)", concurrency, search_calls, search_wall, search_cpu, peak, best, latency
    )
    whole = Measurement(
        "promptfusion (whole run, + test)", concurrency, stats["count"], wall, cpu_all, peak, best, latency
    )
    return search, whole


def _table(rows: list[Measurement]) -> str:
    lines = [
        "| tool | concurrency | LLM calls | wall s | ideal s | wall / ideal | client CPU ms/call "
        "| max in flight | best dev acc |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        lines.append(
            f"| {m.tool} | {m.concurrency} | {m.calls} | {m.wall_s:.2f} | {m.ideal_s:.2f} | "
            f"{m.ratio:.2f}x | {1000 * m.cpu_s / m.calls:.1f} | {m.max_in_flight} | {m.best_score:.2f} |"
        )
    return "\n".join(lines)


def benchmark(concurrencies: list[int], latency: float, repeats: int) -> tuple[list[Measurement], list[str]]:
    """Run both tools ``repeats`` times per concurrency (alternating who goes first) after one untimed
    warm-up of each (imports, first connections); report the run with the median wall time."""
    import dspy

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    rows, notes = [], []
    server = ServerProcess(latency)
    try:
        with tempfile.TemporaryDirectory(prefix="pf-search-bench-data-") as data:
            task_path, examples = _examples(Path(data))
            run_copro(server, concurrencies[0], latency, examples)
            run_ours(server, concurrencies[0], latency, task_path)
            for concurrency in concurrencies:
                runs: dict[str, list[Measurement]] = {}
                for repeat in range(repeats):
                    for who in ("copro", "ours") if repeat % 2 == 0 else ("ours", "copro"):
                        # As `promptfusion run` does: what exists before a timed run (both tools'
                        # modules) leaves the cyclic collector, so a full collection over dspy and
                        # litellm (~100 ms) cannot land inside one tool's timing at random.
                        gc.collect()
                        gc.freeze()
                        if who == "copro":
                            measured = [run_copro(server, concurrency, latency, examples)]
                        else:
                            measured = list(run_ours(server, concurrency, latency, task_path))
                        for m in measured:
                            runs.setdefault(m.tool, []).append(m)
                for tool, spans in runs.items():
                    ratios = ", ".join(f"{m.ratio:.2f}" for m in spans)
                    notes.append(f"{tool} at concurrency {concurrency}: wall/ideal per repeat {ratios}")
                    rows.append(sorted(spans, key=lambda m: m.wall_s)[len(spans) // 2])
    finally:
        server.close()
    return rows, notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_vs_copro", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the dual-format fake server (the benchmark starts it itself)")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits per answer")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args.port, args.latency))
        return
    os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="pf-dspy-cache-"))
    rows, notes = benchmark(args.concurrency, args.latency, args.repeats)
    table = _table(rows)
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M')} | {platform.platform()} | {os.cpu_count()} cpus | "
        f"python {platform.python_version()} | latency {args.latency} s | median of {args.repeats}"
    )
    report = "\n".join([header, "", table, "", *[f"- {n}" for n in notes]])
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")


if __name__ == "__main__":
    main()
