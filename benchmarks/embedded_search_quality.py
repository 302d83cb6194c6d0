"""Issue 14 on the embedded model: our search against DSPy COPRO, MIPROv2 (0-shot) and GEPA per call budget.

The simulated-landscape comparison (``benchmarks/search_quality.py``) on SmolLM2-135M-Instruct
instead: one built-in task, the model served by ``python -m orchestrator.serve`` (one process, one
torch thread) and used by every tool as task model, proposer and (GEPA) reflection model. Every
request of every tool goes through that server and is counted there (``/stats``), proposals
included. Ours runs with ``budget.max_calls`` = the budget and the search settings of
``search_quality.OURS_VARIANTS['ours']``; DSPy's optimizers are sized per budget by
``dspy_optimizers.DSPY_SETTINGS`` (the sizes that land near the budget on the simulated LLM), from the
pinned dspy, with the lenient adapter of ``benchmarks.search_vs_dspy``. Each seed is a different
split of the task: every tool searches that seed's dev examples (ours its first 20; DSPy its first n
as train set and the next n as validation set) and every returned instruction, and the starting one,
is scored the same way afterwards, in-process: label-likelihood arg-max on the seed's whole test
split (``evaluate_on_task``, calibration none; the batch-calibrated prediction is kept beside).

Each finished run is appended to ``--results`` (JSON lines) at once, so a grid that is cut short
still reports; ``python -m benchmarks.embedded_search_report RESULTS`` writes the tables.

Usage: ``python -m benchmarks.embedded_search_quality [--task strategyqa] [--budgets 100 200]
[--seeds 0 1 2] [--tools ours copro mipro gepa] [--start TEXT] [--split TRAIN DEV TEST]
--results PATH`` (needs ``pip install dspy==3.4.1 optuna``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.dspy_optimizers import compile_instruction
from benchmarks.search_quality import OURS_VARIANTS
from benchmarks.search_vs_dspy import (
    CONCURRENCY,
    MODEL,
    ModelServer,
    _campaign,
    _dspy_adapter,
    pick_label,
    unwind_on_sigterm,
)

DSPY_TOOLS = {"copro": "DSPy COPRO", "mipro": "DSPy MIPROv2 (0-shot)", "gepa": "DSPy GEPA"}
# Ours as a user gets it (fresh OPRO-style proposals); with the reflective and merge operators on; with
# two bootstrapped demonstrations searched jointly (one demonstrated candidate per round).
OURS_TOOLS = {
    "ours": ("promptfusion", {}),
    "ours-reflect": ("promptfusion reflect", {"reflection": 0.5}),
    "ours-demos": ("promptfusion demos", {"demos": 2}),
    # Issue 20: half of each round by phrase-level edits without an LLM (orchestrator.search.edits).
    "ours-edits": ("promptfusion edits", {"edits": 0.5}),
    # Issue 20, the demo's settings (examples/embedded.yaml): every candidate an edit, raw label
    # likelihoods (scoring.calibration none, as the test below scores), balanced accuracy as objective.
    "ours-demo": ("promptfusion demo settings", {"edits": 1.0}),
    # Issue 21, Transfer-Prompting: the same, dual-stage: stage 1 on --sources, then stage 2 refines
    # its winner on the task; the budget's exploration is split evenly between the stages.
    "ours-dual": ("promptfusion dual-stage", {"edits": 1.0, "stage1_iterations": 1, "stage2_iterations": 1}),
    # The demo's operators with the product's default batch calibration and the prompt in the user turn
    # (scoring.instruction_turn: user), where issue 20's screen found the 135M model follows it.
    "ours-user": ("promptfusion user turn", {"edits": 1.0}),
}
# The starting instruction in the user turn, scored beside the usual (system-turn) start.
START_USER = "starting instruction (user turn)"
# Campaign settings besides ``search`` per tool (the others keep search_vs_dspy's: batch calibration,
# accuracy as objective).
_BALANCED = {"objective": {"weights": {"balanced_accuracy": 1.0}}}
OURS_CAMPAIGN = {
    "ours-demo": {"scoring": {"calibration": "none"}, **_BALANCED},
    "ours-dual": {"scoring": {"calibration": "none"}, **_BALANCED},
    "ours-user": {"scoring": {"calibration": "batch", "instruction_turn": "user"}, **_BALANCED},
}
# DSPy's task model answers in at most this many tokens (issue 5's script allowed 32): the metric
# reads the first label named, which comes first or right after DSPy's ``[[ ## answer ## ]]``
# marker, and on 2 shared cores each generated token of an evaluation costs about half a second.
ANSWER_TOKENS = 12
TOOL_NAMES = {**{key: name for key, (name, _) in OURS_TOOLS.items()}, **DSPY_TOOLS}


def instruction_turn(tool: str) -> str:
    """Where ``tool``'s instruction sits when it searches and when it is scored on the test split."""
    return OURS_CAMPAIGN.get(tool, {}).get("scoring", {}).get("instruction_turn", "system")


@dataclass
class GridRun:
    """One tool's search at one budget and seed, and its returned instruction on the test split."""

    tool: str
    budget: int
    seed: int
    instruction: str
    calls: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    test: dict[str, Any] = field(default_factory=dict)
    instruction_turn: str = "system"


class Counter:
    """Requests and generated tokens the server saw between ``start`` and ``stop``."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server

    def _stats(self) -> dict[str, int]:
        import httpx

        return httpx.get(f"{self.server.url}/stats", timeout=10).json()

    def start(self) -> None:
        self.before, self.started = self._stats(), time.perf_counter()

    def stop(self, run: GridRun) -> GridRun:
        run.wall_s = time.perf_counter() - self.started
        after = self._stats()
        run.calls = after["requests"] - self.before["requests"]
        run.completion_tokens = after["completion_tokens"] - self.before["completion_tokens"]
        return run


def run_ours(
    server: ModelServer,
    task,
    tool: str,
    budget: int,
    seed: int,
    threads: int,
    scorer: str = "served",
    sources: list[str] | None = None,
    keep: Path | None = None,
) -> GridRun:
    """Our search with ``budget.max_calls`` = ``budget``, the reference on the server, the scorer on the
    server too (``served``: label probabilities from first-token alternatives) or in-process
    (``local``: whole-label likelihoods; a label outside the server's first-token alternatives fails
    the served scorer, issue 22 item 8). ``calls`` is what the run's own ledger sent (its in-process
    scorer's calls never reach the server); the server's count is noted beside. ``sources``: stage 1's
    tasks for the dual-stage tool (the others search the task itself in stage 1 only). ``keep``: a
    folder that keeps the run's store, cache and checkpoints (default: a temporary one)."""
    from orchestrator.runner import optimize_async
    from orchestrator.store import RunStore

    name, extra = OURS_TOOLS[tool]
    settings = dict(OURS_VARIANTS["ours"])
    dev_size = settings.pop("dev_size")
    search = {"stage1_iterations": 100, "patience": 100, "promote_top_k": 1, **settings, **extra}
    run, counter = GridRun(name, budget, seed, task.instruction), Counter(server)
    run.instruction_turn = instruction_turn(tool)
    if keep is None:
        folder = tempfile.TemporaryDirectory(prefix="pf-embedded-quality-")
    else:
        kept_at = keep / f"{tool}-{budget}-{seed}"
        kept_at.mkdir(parents=True, exist_ok=True)
        folder = contextlib.nullcontext(str(kept_at))
    with folder as tmp:
        campaign = _campaign(
            server,
            task.name,
            task.instruction,
            scorer,
            threads,
            Path(tmp),
            seed=seed,
            dev_size=dev_size,
            search=search,
            budget={"max_calls": budget},
            extra=OURS_CAMPAIGN.get(tool),
            sources=sources if tool == "ours-dual" else None,
        )
        # The task's own train/dev/test fractions (``--split``) for the search too, so that ours
        # searches the dev split whose test split every tool is scored on.
        campaign.tasks.target.split = task.split_fractions
        if tool != "ours-dual":
            for config in campaign.tasks.source:
                config.split = task.split_fractions
        run_id = f"embedded-{tool}-{budget}-{seed}"
        counter.start()
        try:
            result = asyncio.run(optimize_async(campaign, run_id=run_id))
            run.instruction = result.answer["prompt"]
            run.notes.append(f"status {result.status}; {result.message or ''}".strip())
        except Exception as error:  # noqa: BLE001 - a failed tool is a result to report, not a crash
            run.error = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
        counter.stop(run)
        store = RunStore(campaign.run.store)
        try:
            sent = store.spent(run_id)[0]
            kept = [event["kept"] for event in store.events(run_id, "filtered")]
        finally:
            store.close()
        run.notes.append(f"server requests {run.calls} (proposals and served scoring)")
        run.notes.append(f"rounds {len(kept)}, of which {kept.count(0)} proposed nothing the filter kept")
        run.calls = sent
    return run


def run_dspy(server: ModelServer, task, tool: str, budget: int, seed: int) -> GridRun:
    """One DSPy optimizer sized by ``DSPY_SETTINGS[budget]``; a run that raises keeps the starting
    instruction (what its user is left with) and is marked failed (``_record`` does not score it)."""
    run, counter = GridRun(DSPY_TOOLS[tool], budget, seed, task.instruction), Counter(server)
    failures: list[int] = []
    counter.start()
    try:
        run.instruction = _compile_dspy(server, task, tool, budget, seed, failures)
    except Exception as error:  # noqa: BLE001 - a failed tool is a result to report, not a crash
        run.error = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    counter.stop(run)
    run.notes.append(f"replies without DSPy's field markers: {len(failures)}")
    return run


def _compile_dspy(server: ModelServer, task, tool: str, budget: int, seed: int, failures: list[int]) -> str:
    import dspy

    fields = {name: (str, dspy.InputField()) for name in task.input_fields}
    fields["answer"] = (str, dspy.OutputField(desc="one of: " + ", ".join(task.labels)))
    program = dspy.Predict(dspy.make_signature(fields, instructions=task.instruction))
    dev = task.splits(seed).dev
    data = [dspy.Example(**e.inputs, answer=e.target).with_inputs(*task.input_fields) for e in dev]

    def metric(example, prediction, trace=None, pred_name=None, pred_trace=None):
        answer = pick_label(prediction.answer, task.labels)
        right = answer == example.answer
        if pred_name is None:
            return float(right)
        said = f"the answer named {answer}" if answer else "the answer named no label"
        feedback = "correct" if right else f"wrong: {said}; the right answer is {example.answer}"
        return dspy.Prediction(score=float(right), feedback=feedback)

    base = {"api_base": f"{server.url}/v1", "api_key": "unused", "cache": False}
    task_lm = dspy.LM("openai/smollm2", temperature=0.0, max_tokens=ANSWER_TOKENS, **base)
    prompt_lm = dspy.LM("openai/smollm2", temperature=1.0, max_tokens=160, **base)
    from dspy.teleprompt.gepa import InstructionProposer

    adapter = _dspy_adapter("lenient", failures)
    with dspy.context(lm=task_lm, adapter=adapter):
        return compile_instruction(
            tool,
            budget,
            program,
            data,
            metric,
            seed=seed,
            task_lm=task_lm,
            prompt_lm=prompt_lm,
            threads=CONCURRENCY,
            # GEPA's proposer's default JSONAdapter rejects every reply of the 135M model (no new
            # candidate ever); the lenient adapter reads the reply as the new instruction instead.
            instruction_proposer=InstructionProposer(adapter=_dspy_adapter("lenient", failures)),
        )


def score_instruction(
    task, instruction: str, seed: int, threads: int, turn: str = "system"
) -> dict[str, Any]:
    """Label likelihoods of ``instruction`` (in the ``turn`` message) on the seed's whole test split,
    in-process: gold labels, raw arg-max predictions and label probabilities per example (for batch
    calibration later)."""
    from orchestrator.tasks.evaluation import evaluate_on_task

    options = {"device": "cpu", "threads": threads}
    evaluation = asyncio.run(
        evaluate_on_task(
            task, instruction, model=MODEL, split="test", seed=seed, options=options, instruction_turn=turn
        )
    )
    report = evaluation.report
    return {
        "labels": list(task.labels),
        "gold": list(report.targets),
        "predicted": [e.prediction for e in report.examples],
        "probs": [list(e.probs) if e.probs is not None else None for e in report.examples],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.embedded_search_quality", description=__doc__)
    parser.add_argument("--task", default="strategyqa", help="built-in task (issue 13: most traction)")
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 200], choices=[100, 200, 400])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--tools", nargs="+", default=["ours", *DSPY_TOOLS], choices=[*OURS_TOOLS, *DSPY_TOOLS]
    )
    parser.add_argument(
        "--start",
        help="the starting instruction of every tool (default: the task's own instruction); issue 20 "
        "starts from the task's one-line description, as a user would write it",
    )
    parser.add_argument(
        "--split",
        type=float,
        nargs=3,
        metavar=("TRAIN", "DEV", "TEST"),
        help="the task's train/dev/test fractions (default: the task's own); issue 20 holds out 0.65 "
        "of multiemo_en_polarity (151 of 233 reviews), as examples/embedded.yaml does",
    )
    parser.add_argument(
        "--sources",
        nargs="+",
        default=["irony_identification"],
        help="stage 1's source tasks of the dual-stage tool (ours-dual; issue 21's Transfer-Prompting claim)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads, server and test scoring")
    parser.add_argument(
        "--ours-scorer",
        choices=["served", "local"],
        default="served",
        help="our scorer: over the server, or the same model in-process (whole-label likelihoods)",
    )
    parser.add_argument("--results", type=Path, required=True, help="JSON lines, one run each (appended)")
    parser.add_argument(
        "--keep-stores", type=Path, help="keep each of our runs' store and checkpoints here (to inspect)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="pf-dspy-cache-"))
    import dspy

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    if "mipro" in args.tools:
        import optuna  # noqa: F401 - MIPROv2 needs it only after its proposals: fail before, not 20 min in
    from orchestrator.tasks import load_builtin_task

    task = load_builtin_task(args.task)
    if args.start:
        task = dataclasses.replace(task, instruction=args.start)
    if args.split:
        if any(f < 0 for f in args.split) or abs(sum(args.split) - 1.0) > 1e-6:
            parser.error(f"--split: three fractions >= 0 summing to 1, got {args.split}")
        task = dataclasses.replace(task, split_fractions=tuple(args.split))
    header = {
        "header": f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC | {platform.platform()} | "
        f"{os.cpu_count()} cpus | load {os.getloadavg()[0]:.1f} | python {platform.python_version()} | "
        f"dspy {dspy.__version__} | task {task.name} | split {list(task.split_fractions)} "
        f"(test n {len(task.splits(0).test)} at seed 0) | start {task.instruction!r} | "
        f"model {MODEL} served (threads {args.threads}) | "
        f"DSPy answers <= {ANSWER_TOKENS} tokens"
    }
    previous = _records(args.results)
    done, scored = _done(previous), _scored(previous, _setting(header["header"]))
    with args.results.open("a") as out:
        out.write(json.dumps(header) + "\n")
    unwind_on_sigterm()
    server = ModelServer(args.threads)
    try:
        for seed in args.seeds:
            if ("starting instruction", 0, seed) not in done:
                _record(args, task, GridRun("starting instruction", 0, seed, task.instruction), scored)
            if "ours-user" in args.tools and (START_USER, 0, seed) not in done:
                run = GridRun(START_USER, 0, seed, task.instruction, instruction_turn="user")
                _record(args, task, run, scored)
            for budget in args.budgets:
                for tool in args.tools:
                    if (TOOL_NAMES[tool], budget, seed) in done:
                        continue  # resumed: this run is already in the results
                    if tool in OURS_TOOLS:
                        run = run_ours(
                            server,
                            task,
                            tool,
                            budget,
                            seed,
                            args.threads,
                            args.ours_scorer,
                            args.sources,
                            args.keep_stores,
                        )
                    else:
                        run = run_dspy(server, task, tool, budget, seed)
                    _record(args, task, run, scored)
    finally:
        server.close()


def _records(path: Path) -> list[dict[str, Any]]:
    """The header and run records already in ``path`` (none when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _done(records: list[dict[str, Any]]) -> set[tuple[str, int, int]]:
    """(tool, budget, seed) of the runs in ``records`` that did not fail: a resumed grid re-runs a
    failure (after a fix, say); the report counts its first success."""
    return {(r["tool"], r["budget"], r["seed"]) for r in records if "header" not in r and not r.get("error")}


def _setting(header: str) -> str:
    """The part of a results header that fixes the held-out scoring: task, split, model."""
    return " | ".join(part for part in header.split(" | ") if part.startswith(("task ", "split ", "model ")))


def _scored(records: list[dict[str, Any]], setting: str) -> dict[tuple[str, int, str], dict[str, Any]]:
    """Held-out scores in ``records`` under the same ``setting``, by (instruction, seed, turn).

    Scoring is deterministic (fp32, greedy arg-max), so an instruction a tool returned again (DSPy's
    optimizers often return the start) is not scored a second time."""
    found: dict[tuple[str, int, str], dict[str, Any]] = {}
    current = None
    for record in records:
        if "header" in record:
            current = _setting(record["header"])
        elif current == setting and record.get("test"):
            key = (record["instruction"], record["seed"], record.get("instruction_turn", "system"))
            found[key] = record["test"]
    return found


def _record(args, task, run: GridRun, scored: dict[tuple[str, int, str], dict[str, Any]]) -> None:
    """Score ``run``'s instruction on the test split (unless it failed: a failed run has no result to
    score, only its error) and append the run to ``args.results``."""
    outcome = f"FAILED {run.error}"
    if not run.error:
        key = (run.instruction, run.seed, run.instruction_turn)
        if key not in scored:
            turn = run.instruction_turn
            scored[key] = score_instruction(task, run.instruction, run.seed, args.threads, turn)
        run.test = scored[key]
        right = sum(p == g for p, g in zip(run.test["predicted"], run.test["gold"], strict=True))
        outcome = f"test {right}/{len(run.test['gold'])}"
    print(
        f"{time.strftime('%H:%M:%S')} seed {run.seed} budget {run.budget} {run.tool}: {run.calls} calls, "
        f"{run.wall_s:.0f} s, {outcome}",
        flush=True,
    )
    with args.results.open("a") as out:
        out.write(json.dumps(asdict(run)) + "\n")


if __name__ == "__main__":
    main()
