"""Quality per call: our search against DSPy COPRO, MIPROv2 (instructions only) and GEPA.

Every tool searches the same synthetic yes/no task against one loopback fake OpenAI server that
answers as the simulated LLM of ``tests/simulated_llm.py`` (also fluent in DSPy's ChatAdapter format
and GEPA's reflection prompt). The scorer is right with probability ``p_correct(instruction)``, a
known function of the helpful phrases in the instruction, so the *true quality* of each returned
instruction is computed exactly, without test-set noise. Every proposer (ours, COPRO's, MIPROv2's,
GEPA's reflection) draws instructions from the same seeded distribution: nobody can learn the
landscape from the text it is shown, so the comparison measures how well each tool spends calls on
screening and selecting candidates, not how good its meta-prompt is.

Calls are counted by the server (every request, proposer included). Ours runs with
``budget.max_calls`` = the budget; DSPy's optimizers are sized to about the same number of calls
(their settings per budget are in ``DSPY_SETTINGS``) and their real counts are reported. Each seed
draws a different split of the task for every tool.

Usage: ``python -m benchmarks.search_quality [--budgets 100 200 400] [--seeds 0 1 2 3 4]
[--tools ours copro mipro gepa] [--markdown PATH]`` (needs ``pip install dspy==3.4.1``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.dspy_optimizers import DSPY_SETTINGS, compile_instruction
from benchmarks.search_vs_copro import DSPY_ASK, DSPY_FIELD
from tests import simulated_llm
from tests.fakeserver import FakeServer, Reply, ServerThread

TASK = "claims_target"
BASELINE = "You are an assistant."
GEPA_ASK = "Provide the new instructions within ``` blocks"

# Per budget: COPRO (trainset, breadth, depth), MIPROv2 (train/val size, candidates, trials,
# minibatch), GEPA (train/val size, max_metric_calls). Sized so each lands near the budget.


@dataclass(frozen=True)
class Landscape:
    """Accuracy as a known function of an instruction: each helpful phrase it contains adds ``step``
    to the scorer's chance of answering right (from ``base``, at most ``ceiling``). Proposals draw
    ``k`` helpful phrases with probability ``k_weights[k]`` plus one or two neutral ones."""

    name: str
    helpful: tuple[str, ...]
    neutral: tuple[str, ...]
    k_weights: tuple[float, ...]
    base: float
    step: float
    ceiling: float

    def propose(self, seed: int) -> str:
        rng = random.Random(seed)
        k = rng.choices(range(len(self.k_weights)), weights=self.k_weights)[0]
        phrases = rng.sample(self.helpful, k) + rng.sample(self.neutral, rng.randint(1, 2))
        rng.shuffle(phrases)
        return ". ".join(p.capitalize() for p in phrases) + "."

    def p_correct(self, system: str) -> float:
        hits = sum(phrase in system.lower() for phrase in self.helpful)
        return min(self.ceiling, self.base + self.step * hits)

    def answer(self, system: str, user: str) -> tuple[str, float]:
        gold = "yes" if "[gold: yes]" in user else "no"
        right = simulated_llm._unit(system, user) < self.p_correct(system)
        return (gold if right else ("no" if gold == "yes" else "yes")), 0.55 + 0.4 * simulated_llm._unit(
            "conf", system, user
        )


LANDSCAPES = {
    # The tests' simulated LLM: 0-3 of 4 helpful phrases, so 0.86 is the best any proposal reaches.
    "tests": Landscape("tests", simulated_llm.HELPFUL, simulated_llm.NEUTRAL, (1, 1, 1, 1), 0.5, 0.12, 0.95),
    # A deeper one: 0-6 of 8 helpful phrases, rarer the more, up to 0.90; a good prompt is rare.
    "deep": Landscape(
        "deep",
        (
            *simulated_llm.HELPFUL,
            "cite the sentence you rely on",
            "consider both labels",
            "ignore names",
            "watch for negations",
        ),
        simulated_llm.NEUTRAL,
        (25, 25, 20, 13, 9, 5, 3),
        0.45,
        0.075,
        0.95,
    ),
}


class QualityResponder:
    """One simulated LLM in every dialect the tools speak: our meta-prompts (``<prompt>``), DSPy's
    ChatAdapter and JSON fields (``proposed_instruction``, GEPA's ``new_instruction``, the answer),
    the gepa package's ``` reflection, and plain scoring with label log-probabilities.

    A proposal depends only on the request and how many identical requests came before (DSPy sends
    ``n`` identical ones for ``n`` samples), so a run is deterministic.
    """

    def __init__(self, landscape: Landscape) -> None:
        self.landscape = landscape
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        user = simulated_llm._text(messages[-1].get("content")) if messages else ""
        system = " ".join(simulated_llm._text(m.get("content")) for m in messages if m["role"] == "system")
        if "<prompt>" in user:  # ours, fresh or reflective
            return Reply(text=f"<prompt>{self._instruction(body)}</prompt>")
        if GEPA_ASK in user:
            return Reply(text="```\n" + self._instruction(body) + "\n```")
        fields = DSPY_FIELD.findall(user[user.index(DSPY_ASK) :]) if DSPY_ASK in user else []
        wanted = [f for f in fields if f != "completed"] or [
            f for f in ("new_instruction", "proposed_instruction") if f"`{f}`" in user
        ]
        if any(f in wanted for f in ("proposed_instruction", "new_instruction")):
            values = {f: self._instruction(body) for f in wanted}
        elif wanted or "Respond with a JSON object" in user:
            label, _ = self.landscape.answer(system, user)
            values = {f: label for f in wanted or ["answer"]}
        else:  # our scorer: the label with first-token log-probabilities
            label, confidence = self.landscape.answer(system, user)
            other = "no" if label == "yes" else "yes"
            top = [(label, math.log(confidence)), (other, math.log(1 - confidence))]
            return Reply(text=label, top_logprobs=top, prompt_tokens=40, completion_tokens=1)
        if "Respond with a JSON object" in user:
            return Reply(text=json.dumps(values))
        text = "".join(f"[[ ## {name} ## ]]\n{value}\n\n" for name, value in values.items())
        return Reply(text=text + "[[ ## completed ## ]]")

    def _instruction(self, body: dict[str, Any]) -> str:
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            occurrence = self._seen[key]
            self._seen[key] += 1
        return self.landscape.propose(int(key[:8], 16) + occurrence)


class QualityServer(FakeServer):
    """The fake server answering with a fresh ``QualityResponder`` after every reset."""

    def __init__(self, landscape: Landscape) -> None:
        super().__init__()
        self.landscape = landscape

    def reset(self) -> None:
        super().reset()
        self.script.reset(QualityResponder(self.landscape))


@dataclass
class Outcome:
    tool: str
    budget: int
    seed: int
    instruction: str
    calls: int
    wall_s: float
    failed: bool = False

    landscape: Landscape = LANDSCAPES["tests"]

    @property
    def quality(self) -> float:
        return self.landscape.p_correct(self.instruction)


def _data(folder: Path, seed: int) -> tuple[Path, list[tuple[str, str]]]:
    """The task file and its dev examples in this seed's order (ours splits the same way)."""
    from orchestrator.config import TaskConfig
    from orchestrator.tasks.resolve import load_configured_task

    path = simulated_llm.write_tasks(folder, names=(TASK,), n=300)[TASK]
    task = load_configured_task(TaskConfig(name=TASK, path=str(path)), seed)
    dev = task.splits(seed).dev
    return path, [(task.render_input(e), e.target) for e in dev]


# Our search's settings per variant: the budget does the rest (rounds run until it is spent). `ours`
# leaves search.screen at auto (a paired screen when the budget scores few candidates fully);
# `noscreen` turns it off; the race variants are interval racing at the settings shown.
OURS_VARIANTS: dict[str, dict[str, Any]] = {
    "ours": {"minibatch_size": 10, "dev_size": 20, "finalists": 2},
    "noscreen": {"minibatch_size": 10, "dev_size": 20, "finalists": 2, "screen": "off"},
    # The operators (issue 20): reflection 0.3 + merge 0.1, edits alone, and all three; shares carry
    # across rounds (orchestrator.search.shares), so merge 0.1 at 4 candidates merges every 2.5 rounds.
    "reflect-merge": {"minibatch_size": 10, "dev_size": 20, "finalists": 2, "reflection": 0.3, "merge": 0.1},
    "edits": {"minibatch_size": 10, "dev_size": 20, "finalists": 2, "edits": 0.25},
    "edits50": {"minibatch_size": 10, "dev_size": 20, "finalists": 2, "edits": 0.5},
    "edits-reflect-merge": {
        "minibatch_size": 10,
        "dev_size": 20,
        "finalists": 2,
        "reflection": 0.3,
        "merge": 0.1,
        "edits": 0.25,
    },
    "racing": {"minibatch_size": 20, "dev_size": 40, "finalists": 2, "screen": "interval", "screen_size": 8},
    "race4": {
        "screen": "interval",
        "minibatch_size": 10,
        "dev_size": 20,
        "finalists": 2,
        "screen_size": 4,
        "racing_confidence": 0.5,
    },
    "race3": {
        "screen": "interval",
        "minibatch_size": 12,
        "dev_size": 24,
        "finalists": 3,
        "screen_size": 3,
        "racing_confidence": 0.5,
    },
    "race5": {
        "screen": "interval",
        "minibatch_size": 16,
        "dev_size": 32,
        "finalists": 3,
        "screen_size": 5,
        "racing_confidence": 0.8,
    },
}


def run_ours(server: FakeServer, budget: int, seed: int, task_path: Path, variant: str) -> Outcome:
    from orchestrator.config import Campaign
    from orchestrator.runner import optimize_async

    model = {"model": "openai/sim", "api_base": server.openai_base, "max_retries": 1, "timeout": 30}
    task = {"name": TASK, "path": str(task_path)}
    settings = OURS_VARIANTS[variant]
    with tempfile.TemporaryDirectory(prefix="pf-quality-") as tmp:
        config = {
            "name": "search-quality",
            "models": {"reference": {**model, "temperature": 1.0}, "scorer": {**model, "concurrency": 16}},
            # The target task only, as a new user would: stage 1 on it, no stage-2 rounds.
            "tasks": {"source": [task], "target": task, "dev_size": settings["dev_size"], "test_size": 2},
            "search": {
                "stage1_iterations": 100,
                "stage2_iterations": 0,
                "patience": 100,
                "candidates_per_step": 4,
                "minibatch_size": settings["minibatch_size"],
                "screen": settings.get("screen", "auto"),
                "screen_size": settings.get("screen_size"),
                "racing_confidence": settings.get("racing_confidence", 0.95),
                "finalists": settings["finalists"],
                "reflection": settings.get("reflection", 0.0),
                "merge": settings.get("merge", 0.0),
                "edits": settings.get("edits", 0.0),
                "baseline_prompts": [BASELINE],
            },
            "objective": {"weights": {"accuracy": 1.0}},
            "budget": {"max_calls": budget},
            "run": {"store": f"{tmp}/store.sqlite", "cache": f"{tmp}/cache.sqlite", "seed": seed},
        }
        # The target doubles as the only source task (stage 1 on it, its minibatch results reused in
        # stage 2): the search supports it, but the load-time check refuses a repeated task name, so
        # the campaign is built without it (runner.optimize_async runs no load-time check).
        campaign = Campaign.model_validate(yaml.safe_load(yaml.safe_dump(config)))
        server.reset()
        started = time.perf_counter()
        result = asyncio.run(optimize_async(campaign))
        wall = time.perf_counter() - started
    shown = ", ".join(f"{k} {v}" for k, v in settings.items())
    return Outcome(
        f"promptfusion {variant} ({shown})",
        budget,
        seed,
        result.answer["prompt"],
        len(server.requests),
        wall,
        landscape=server.landscape,
    )


def _dspy_parts(server: FakeServer, examples: list[tuple[str, str]]):
    import dspy

    class Claim(dspy.Signature):
        """You are an assistant."""

        claim: str = dspy.InputField()
        answer: str = dspy.OutputField(desc="the label")

    def metric(example, prediction, trace=None, pred_name=None, pred_trace=None):
        right = str(prediction.answer).strip().lower() == example.answer
        if pred_name is None:
            return float(right)
        feedback = "correct" if right else f"wrong: the answer is {example.answer}"
        return dspy.Prediction(score=float(right), feedback=feedback)

    data = [dspy.Example(claim=text, answer=label).with_inputs("claim") for text, label in examples]
    lm = dspy.LM("openai/sim", api_base=server.openai_base, api_key="sk-bench", cache=False, max_tokens=64)
    return dspy, Claim, metric, data, lm


def run_dspy(server: FakeServer, tool: str, budget: int, seed: int, examples) -> Outcome:
    """One DSPy optimizer; a run that raises counts as returning the starting instruction (what its
    user is left with), and is marked failed."""
    names = {"copro": "DSPy COPRO", "mipro": "DSPy MIPROv2 (0-shot)", "gepa": "DSPy GEPA"}
    server.reset()
    started = time.perf_counter()
    try:
        instruction = _compile_dspy(server, tool, budget, seed, examples)
        failed = False
    except Exception as exc:  # a benchmark row, not a crash of the whole comparison
        print(
            f"{names[tool]} failed at budget {budget}, seed {seed}: {type(exc).__name__}: {exc}", flush=True
        )
        instruction, failed = BASELINE, True
    wall = time.perf_counter() - started
    return Outcome(
        names[tool], budget, seed, instruction, len(server.requests), wall, failed, server.landscape
    )


def _compile_dspy(server: FakeServer, tool: str, budget: int, seed: int, examples) -> str:
    dspy, claim, metric, data, lm = _dspy_parts(server, examples)
    with dspy.context(lm=lm):
        return compile_instruction(
            tool, budget, dspy.Predict(claim), data, metric, seed=seed, task_lm=lm, prompt_lm=lm, threads=16
        )


def _table(outcomes: list[Outcome]) -> str:
    columns = (
        "call budget",
        "tool",
        "median true quality",
        "mean",
        "min-max",
        "median calls",
        "median wall s",
    )
    lines = ["| " + " | ".join(columns) + " | runs (failed) |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    groups: dict[tuple[int, str], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.budget, o.tool), []).append(o)
    for (budget, tool), runs in sorted(groups.items()):
        q = [o.quality for o in runs]
        lines.append(
            f"| {budget} | {tool} | {statistics.median(q):.3f} | {statistics.mean(q):.3f} | "
            f"{min(q):.2f}-{max(q):.2f} | "
            f"{statistics.median(o.calls for o in runs):.0f} | "
            f"{statistics.median(o.wall_s for o in runs):.1f} | {len(runs)} ({sum(o.failed for o in runs)}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_quality", description=__doc__)
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=[100, 200, 400],
        help=f"DSPy's tools run at {sorted(DSPY_SETTINGS)} only; ours at any",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--tools",
        nargs="+",
        default=[*OURS_VARIANTS, "copro", "mipro", "gepa"],
        help="ours: a key of OURS_VARIANTS",
    )
    parser.add_argument("--landscape", choices=sorted(LANDSCAPES), default="tests")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    dspy_tools = {"copro", "mipro", "gepa"} & set(args.tools)
    if dspy_tools and not set(args.budgets) <= set(DSPY_SETTINGS):
        parser.error(f"{sorted(dspy_tools)} run at budgets {sorted(DSPY_SETTINGS)} only")
    os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="pf-dspy-cache-"))
    if {"copro", "mipro", "gepa"} & set(args.tools):
        import dspy

        dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    outcomes: list[Outcome] = []
    server = QualityServer(LANDSCAPES[args.landscape])
    with ServerThread(server), tempfile.TemporaryDirectory(prefix="pf-quality-data-") as data:
        warm_path, _ = _data(Path(data) / "warm-up", 999)
        run_ours(server, min(args.budgets), 999, warm_path, "ours")  # imports and first connections, untimed
        for seed in args.seeds:
            task_path, examples = _data(Path(data) / str(seed), seed)
            for budget in args.budgets:
                for tool in args.tools:
                    if tool in OURS_VARIANTS:
                        outcome = run_ours(server, budget, seed, task_path, tool)
                    else:
                        outcome = run_dspy(server, tool, budget, seed, examples)
                    outcomes.append(outcome)
                    print(
                        f"seed {seed} budget {budget} {outcome.tool}: quality {outcome.quality:.3f},"
                        f" {outcome.calls} calls, {outcome.wall_s:.1f} s",
                        flush=True,
                    )
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M')} | {platform.platform()} | {os.cpu_count()} cpus | "
        f"python {platform.python_version()} | landscape {args.landscape} | seeds {args.seeds}"
    )
    report = "\n".join([header, "", _table(outcomes)])
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")


if __name__ == "__main__":
    main()
