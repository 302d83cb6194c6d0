"""Quality and cost against DSPy: our loop vs ``dspy.COPRO`` on one built-in task, one model.

The embedded model (SmolLM2-135M-Instruct) is served over an OpenAI-compatible endpoint
(``python -m orchestrator.serve``, a separate process). DSPy uses it as task model and prompt model.
Our loop runs twice: ``ours-served`` points both roles at the same server (``openai/...`` with
``api_base``; label probabilities then come from first-token logprobs), ``ours-local`` keeps the
reference on the server but scores in-process with the same weights (exact label likelihoods, the
embedded default). Both tools search from the task's own instruction on the same 20 dev examples
with the same concurrency and about the same number of calls: COPRO breadth 4 x depth 2 (7
proposals + 8 x 20 evaluations), ours 4 candidates x 2 rounds on a 16-example minibatch with the
finalists rescored on all 20. Each tool's final instruction (and the starting one) is then scored
the same way, in-process: label-likelihood accuracy on the same 40 held-out test examples
(``evaluate_on_task``).

DSPy's ChatAdapter expects ``[[ ## field ## ]]`` sections that a 135M model rarely writes; with the
default adapter COPRO aborts when a proposal cannot be parsed. ``--dspy-adapter lenient`` (the
default) keeps DSPy's algorithm but reads an unparseable reply as the raw text of the first output
field (such replies are counted and reported); the metric credits the label named in the answer.
Both favour DSPy.

Usage: ``python -m benchmarks.search_vs_dspy [--task epistemic_reasoning] [--tools ...] [--markdown PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

MODEL = "local/smollm2-135m-instruct"
SEED, DEV, TEST, MINIBATCH = 0, 20, 40, 16
BREADTH, DEPTH, CONCURRENCY = 4, 2, 8


def unwind_on_sigterm() -> None:
    """Make ``kill`` (SIGTERM) unwind like an exception, so a ``finally`` stops the model server. By
    default the process dies at once and its server keeps running (seen: two orphaned servers of
    1.3 GB at 92% CPU after the benchmark loops were killed)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


class ModelServer:
    """``python -m orchestrator.serve`` on an ephemeral port, in its own process."""

    def __init__(self, threads: int) -> None:
        root = Path(__file__).resolve().parents[1]
        command = [sys.executable, "-m", "orchestrator.serve", "--model", MODEL, "--port", "0"]
        command += ["--device", "cpu", "--threads", str(threads)]
        self.process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.process.kill()
            raise RuntimeError(f"model server did not start: {line!r}")
        self.url = line.removeprefix("listening on ")

    def calls(self) -> int:
        return httpx.get(f"{self.url}/stats", timeout=10).json()["requests"]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@dataclass
class ToolRun:
    """One tool's search: calls at the server, wall time, the instruction it ended with."""

    tool: str
    calls: int = 0
    wall_s: float = 0.0
    final_prompt: str = ""
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    test: dict[str, float] = field(default_factory=dict)


def pick_label(text: str, labels: tuple[str, ...]) -> str | None:
    """The label an answer names first, as a whole word; at the same place the longest one
    (``non-entailment`` over ``entailment``). ``No`` inside ``not`` or ``know`` is not an answer."""
    found = [
        (match.start(), -len(label), label)
        for label in labels
        if (match := re.search(rf"(?<!\w){re.escape(label)}(?!\w)", str(text), flags=re.IGNORECASE))
    ]
    return min(found)[2] if found else None


def _dspy_adapter(kind: str, failures: list[int]):
    import dspy

    if kind == "chat":
        return dspy.ChatAdapter()

    class LenientChatAdapter(dspy.ChatAdapter):
        """ChatAdapter, but a reply without the field markers becomes the first output field's text."""

        def parse(self, signature, completion):
            try:
                return super().parse(signature, completion)
            except dspy.utils.exceptions.AdapterParseError:
                failures.append(1)
                names = list(signature.output_fields)
                text = completion.replace("[[ ## completed ## ]]", "").strip()
                return {name: (text if i == 0 else "") for i, name in enumerate(names)}

    return LenientChatAdapter(use_json_adapter_fallback=False)


def run_copro(server: ModelServer, task, dev, baseline: str, adapter: str) -> ToolRun:
    """COPRO (breadth 4, depth 2, ``num_threads=8``), DSPy's cache off, from ``baseline``."""
    import dspy
    from dspy.teleprompt import COPRO

    run = ToolRun("dspy.COPRO")
    fields = {name: (str, dspy.InputField()) for name in task.input_fields}
    fields["answer"] = (str, dspy.OutputField(desc="one of: " + ", ".join(task.labels)))
    signature = dspy.make_signature(fields, instructions=baseline)
    trainset = [dspy.Example(**e.inputs, answer=e.target).with_inputs(*task.input_fields) for e in dev]

    def metric(example, prediction, trace=None) -> bool:
        return pick_label(prediction.answer, task.labels) == example.answer

    base = {"api_base": f"{server.url}/v1", "api_key": "unused", "cache": False}
    scorer_lm = dspy.LM("openai/smollm2", temperature=0.0, max_tokens=32, **base)
    prompt_lm = dspy.LM("openai/smollm2", temperature=1.0, max_tokens=160, **base)
    failures: list[int] = []
    before = server.calls()
    started = time.perf_counter()
    try:
        with dspy.context(lm=scorer_lm, adapter=_dspy_adapter(adapter, failures)):
            best = COPRO(prompt_model=prompt_lm, metric=metric, breadth=BREADTH, depth=DEPTH).compile(
                dspy.Predict(signature),
                trainset=trainset,
                eval_kwargs={"num_threads": CONCURRENCY, "display_progress": False},
            )
        run.final_prompt = best.predictors()[0].signature.instructions
        scores = sorted((c["score"] for c in best.candidate_programs), reverse=True)
        run.notes.append(f"COPRO dev scores (metric %, best first): {scores}")
    except Exception as error:  # noqa: BLE001 - a failed tool is a result to report, not a crash
        run.error = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    run.wall_s = time.perf_counter() - started
    run.calls = server.calls() - before
    if adapter == "lenient":
        run.notes.append(f"replies without DSPy's field markers: {len(failures)} of {run.calls}")
    return run


def _campaign(
    server: ModelServer,
    task_name: str,
    baseline: str,
    scorer: str,
    threads: int,
    folder: Path,
    *,
    seed: int = SEED,
    dev_size: int = DEV,
    search: dict[str, Any] | None = None,
    budget: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    sources: list[str] | None = None,
):
    """Our campaign on ``task_name``: issue 5's fixed rounds, or ``search``/``budget`` laid over them
    (``benchmarks.embedded_search_quality`` runs it with a call budget); ``extra``: other top-level
    sections replaced whole (scoring, objective); ``sources``: stage 1's tasks (default: the task)."""
    from orchestrator.loading import parse_campaign

    served = {"model": "openai/smollm2", "api_base": f"{server.url}/v1", "timeout": 1800, "max_retries": 2}
    in_process = {"model": MODEL, "options": {"device": "cpu", "threads": threads}}
    config = {
        "name": "search-vs-dspy",
        "models": {
            "reference": {**served, "temperature": 0.9, "max_tokens": 160, "concurrency": CONCURRENCY},
            "scorer": {
                **(served if scorer == "served" else in_process),
                "temperature": 0.0,
                "concurrency": CONCURRENCY,
            },
        },
        # One task as source and target and no stage-2 rounds: stage 1 is the whole search; the
        # held-out test is scored below, in-process, like DSPy's result (2 examples here, the minimum).
        "tasks": {
            "source": sources or [task_name],
            "target": task_name,
            "dev_size": dev_size,
            "test_size": 2,
        },
        "search": {
            "stage1_iterations": DEPTH,
            "stage2_iterations": 0,
            "candidates_per_step": BREADTH,
            "minibatch_size": MINIBATCH,
            "patience": DEPTH + 1,
            "baseline_prompts": [baseline],
            **(search or {}),
        },
        "objective": {"weights": {"accuracy": 1.0}},
        "run": {"store": str(folder / "store.sqlite"), "cache": str(folder / "cache.sqlite"), "seed": seed},
    }
    if budget:
        config["budget"] = budget
    config.update(extra or {})
    return parse_campaign(yaml.safe_dump(config), source="search_vs_dspy", env={})


def run_ours(server: ModelServer, task_name: str, baseline: str, scorer: str, threads: int) -> ToolRun:
    """Our loop with a fresh response cache. ``scorer``: ``served`` (over HTTP, label probabilities from
    first-token logprobs) or ``local`` (the same model in-process, exact label likelihoods).

    Calls are the run's ledger entries that were sent (cache hits excluded) up to the finalists'
    rescoring, i.e. without the loop's own 2-example test; the server's count is noted beside.
    """
    from orchestrator.runner import optimize_async
    from orchestrator.store import RunStore

    run = ToolRun(f"promptfusion (scorer {scorer})")
    run_id = f"vs-dspy-{scorer}"
    marks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="pf-vs-dspy-") as tmp:
        campaign = _campaign(server, task_name, baseline, scorer, threads, Path(tmp))

        def sent_calls() -> int:
            store = RunStore(campaign.run.store)
            try:
                return store.spent(run_id)[0]
            finally:
                store.close()

        def on_event(kind: str, payload: Any) -> None:
            if kind == "finalists":
                marks["search_calls"] = sent_calls()

        before = server.calls()
        started = time.perf_counter()
        try:
            result = asyncio.run(optimize_async(campaign, on_event=on_event, run_id=run_id))
        except Exception as error:  # noqa: BLE001 - a failed tool is a result to report, not a crash
            result, run.error = None, f"{type(error).__name__}: {str(error).splitlines()[0][:400]}"
        run.wall_s = time.perf_counter() - started
        total = sent_calls()
    run.calls = marks.get("search_calls", total)
    run.notes.append(
        f"calls sent in all (incl. the loop's own 2-example test): {total}; "
        f"requests seen by the server: {server.calls() - before}"
    )
    if result is None:
        return run
    if result.status != "done":
        run.error = result.message
        return run
    run.final_prompt = result.final["winner"]["prompt"]
    ranked = sorted((round(c["objective"], 3) for c in result.history), reverse=True)
    run.notes.append(f"minibatch objectives (accuracy, best first): {ranked}")
    finalists = [(round(f["scores"]["accuracy"], 3), f["origin"]) for f in result.final["finalists"]]
    run.notes.append(f"finalists on the {DEV} dev examples (accuracy, origin): {finalists}")
    return run


def score_on_test(task, prompt: str, threads: int) -> dict[str, float]:
    """Label-likelihood scores of ``prompt`` on the first ``TEST`` held-out test examples, in-process."""
    from orchestrator.tasks.evaluation import evaluate_on_task

    options = {"device": "cpu", "threads": threads}
    evaluation = asyncio.run(
        evaluate_on_task(task, prompt, model=MODEL, split="test", seed=SEED, limit=TEST, options=options)
    )
    scores = evaluation.report.scores
    return {k: float(scores[k]) for k in ("accuracy", "macro_f1") if k in scores}


def _report(task, baseline: str, runs: list[ToolRun], baseline_test: dict[str, float], args) -> str:
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M')} | {platform.platform()} | {os.cpu_count()} cpus | "
        f"python {platform.python_version()} | task {task.name} | {DEV} dev / {TEST} test examples | "
        f"model {MODEL} served by orchestrator.serve (threads {args.threads}) | "
        f"DSPy adapter {args.dspy_adapter}",
        "",
        "| tool | LLM calls (search) | wall s | test accuracy | test macro-F1 | final instruction |",
        "|---|---:|---:|---:|---:|---|",
        f"| starting instruction | - | - | {baseline_test.get('accuracy', float('nan')):.3f} | "
        f"{baseline_test.get('macro_f1', float('nan')):.3f} | {baseline!r} |",
    ]
    for run in runs:
        prompt = run.final_prompt.replace("|", "\\|").replace("\n", " ")
        if run.error:
            lines.append(f"| {run.tool} | {run.calls} | {run.wall_s:.0f} | failed | - | {run.error} |")
            continue
        acc, f1 = run.test.get("accuracy", float("nan")), run.test.get("macro_f1", float("nan"))
        lines.append(f"| {run.tool} | {run.calls} | {run.wall_s:.0f} | {acc:.3f} | {f1:.3f} | {prompt!r} |")
    lines.append("")
    lines += [f"- {run.tool}: {note}" for run in runs for note in run.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_vs_dspy", description=__doc__)
    parser.add_argument("--task", default="epistemic_reasoning", help="built-in task")
    parser.add_argument(
        "--tools",
        nargs="+",
        default=["ours-served", "ours-local", "copro"],
        choices=["ours-served", "ours-local", "copro"],
        help="ours-served: both our roles over HTTP; ours-local: our scorer in-process (same model)",
    )
    parser.add_argument("--dspy-adapter", default="lenient", choices=["lenient", "chat"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the served model")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="pf-dspy-cache-"))
    import dspy

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    from orchestrator.tasks import load_builtin_task

    task = load_builtin_task(args.task)
    baseline = task.instruction
    dev = task.splits(SEED).dev[:DEV]
    runs = []
    unwind_on_sigterm()
    server = ModelServer(args.threads)
    try:
        for tool in args.tools:
            if tool.startswith("ours-"):
                runs.append(run_ours(server, task.name, baseline, tool.removeprefix("ours-"), args.threads))
            else:
                runs.append(run_copro(server, task, dev, baseline, args.dspy_adapter))
            print(f"{runs[-1].tool}: {runs[-1].calls} calls, {runs[-1].wall_s:.0f} s", flush=True)
    finally:
        server.close()
    baseline_test = score_on_test(task, baseline, args.threads)
    for run in runs:
        if not run.error:
            run.test = score_on_test(task, run.final_prompt, args.threads)
    report = _report(task, baseline, runs, baseline_test, args)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")


if __name__ == "__main__":
    main()
