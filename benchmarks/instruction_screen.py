"""Instruction-sensitivity screen: on which classification tasks does the instruction change the
embedded model's answers?

Every example of a task is scored ONCE under every prompt variant with the product's own label
scorer (``LocalEngine.score``: the chat template, label log-likelihoods in packed batches); raw and
batch-calibrated predictions are both derived from those same log-likelihoods. Variants: the
instruction kinds of ``instruction_screen_tasks.INSTRUCTION_KINDS`` (bare = no instruction), each
non-bare one placed in the system turn (the product's ``default_messages``) or in the user turn
before the input.

Scoring runs in rounds (e.g. 40, then 80, then 120 examples of every task), appending one JSON line
per example to ``OUT/<task>.jsonl``; a rerun resumes where it stopped, and ``--report`` reads
whatever is there. The examples of a task are a label-stratified pick, shortest first.

Usage:
    python benchmarks/instruction_screen.py --evals-dir /tmp/evals/evals/registry/data \
        [--rounds 40,80,120] [--out benchmarks/results/instruction_screen] [--report]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.instruction_screen_stats import CALIBRATIONS, screen_task  # noqa: E402
from benchmarks.instruction_screen_tasks import (  # noqa: E402
    INSTRUCTION_KINDS,
    ScreenTask,
    instructions_for,
    load_screen_tasks,
    pick_examples,
)

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "instruction_screen"
PICK_SEED = "instruction-screen-v1"


def variants(task: ScreenTask) -> dict[str, tuple[str, str]]:
    """Variant name -> (instruction text, placement). ``bare`` has no instruction and no placement."""
    out = {}
    for kind, text in instructions_for(task).items():
        if kind == "bare":
            out["bare"] = ("", "none")
        else:
            out.update({f"{kind}@system": (text, "system"), f"{kind}@user": (text, "user")})
    return out


def messages(instruction: str, placement: str, text: str) -> tuple[tuple[str, str], ...]:
    if placement == "system":
        return (("system", instruction), ("user", text))
    if placement == "user":
        return (("user", f"{instruction}\n\n{text}"),)
    return (("user", text),)


def read_done(path: Path) -> dict[int, dict]:
    """Index -> merged record (a later line adds the variants an earlier stage did not score)."""
    done: dict[int, dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                merged = done.setdefault(row["index"], {**row, "logprobs": {}})
                merged["logprobs"].update(row["logprobs"])
    return done


def score_round(
    engine, task: ScreenTask, indices: list[int], names: list[str], path: Path, chunk: int
) -> None:
    """Score the not-yet-scored (example, variant) pairs of ``indices`` x ``names``, appending one line
    per example."""
    from orchestrator.local_model.engine import ScoreJob

    done, table = read_done(path), variants(task)
    todo = [(i, [n for n in names if n not in done.get(i, {}).get("logprobs", {})]) for i in indices]
    todo = [(i, missing) for i, missing in todo if missing]
    for start in range(0, len(todo), chunk):
        batch = todo[start : start + chunk]
        jobs = [
            ScoreJob(messages(*table[n], task.inputs[i]), task.labels)
            for i, missing in batch
            for n in missing
        ]
        began = time.perf_counter()
        results = iter(engine.score(jobs))
        seconds = time.perf_counter() - began
        with path.open("a", encoding="utf-8") as handle:
            for index, missing in batch:
                logprobs = {name: list(next(results).logprobs) for name in missing}
                record = {"index": index, "target": task.targets[index], "logprobs": logprobs}
                handle.write(json.dumps(record) + "\n")
        print(f"{task.name}: +{len(batch)} examples x {len(jobs) // len(batch)} variants "
              f"({len(jobs) / seconds:.2f} scorings/s)", flush=True)  # fmt: skip


def run(tasks: list[ScreenTask], rounds: list[int], names: list[str] | None, out: Path, chunk: int) -> None:
    """Score ``rounds`` (examples per task after each round) under the variants ``names`` (None: all),
    the tasks in the order given within each round."""
    from orchestrator.local_model.engine import LocalEngine
    from orchestrator.local_model.options import LocalModelOptions

    out.mkdir(parents=True, exist_ok=True)
    engine = LocalEngine("smollm2-135m-instruct", LocalModelOptions(threads=1))
    picks = {
        task.name: pick_examples(task.targets, tuple(len(t) for t in task.inputs), max(rounds), PICK_SEED)
        for task in tasks
    }
    for size in rounds:
        for task in tasks:
            wanted = names or list(variants(task))
            score_round(engine, task, picks[task.name][:size], wanted, out / f"{task.name}.jsonl", chunk)


def report(tasks: list[ScreenTask], out: Path) -> tuple[str, list[str]]:
    """The markdown table (one row per task and calibration) and the qualifying lines."""
    header = (
        "| task | k | n | variants | majority | calibration | best (bal. acc. [95% CI]) | worst "
        "| best vs worst (only best vs only worst right; pair's exact p, bal. acc.) | McNemar p "
        "| spread p (selection included) | qualifies |\n|---|---:|---:|---:|---:|---|---|---|---|---|---|---|"
    )
    lines, qualifying = [header], []
    for task in tasks:
        rows = sorted(read_done(out / f"{task.name}.jsonl").values(), key=lambda r: r["index"])
        # Each variant on the examples scored under all the variants that the most examples have.
        names = [name for name in variants(task) if sum(name in r["logprobs"] for r in rows) >= len(rows) / 2]
        rows = [r for r in rows if all(name in r["logprobs"] for name in names)]
        if len(rows) < 10:
            continue
        targets = [r["target"] for r in rows]
        logprobs = {name: [r["logprobs"][name] for r in rows] for name in names}
        texts = {name: text for name, (text, _) in variants(task).items()}
        for calibration in CALIBRATIONS:
            v = screen_task(logprobs, targets, task.labels, calibration)
            b, w = v.best_ci, v.worst_ci
            verdict = "**yes**" if v.qualifies else "no"
            lines.append(
                f"| {task.name} | {len(task.labels)} | {v.n} | {len(names)} | {v.majority:.2f} "
                f"| {calibration} "
                f"| {v.best} {b.estimate:.2f} [{b.low:.2f}, {b.high:.2f}] "
                f"| {v.worst} {w.estimate:.2f} [{w.low:.2f}, {w.high:.2f}] "
                f"| {v.best_only} vs {v.worst_only}, p = {v.p:.3g} | {v.mcnemar_p:.3g} "
                f"| {v.selection_p:.3g} | {verdict} |"
            )
            if v.qualifies:
                qualifying.append(
                    f"{task.name}\tcalibration={calibration}\tn={v.n}\tmajority={v.majority:.2f}"
                    f"\tbest={v.best} {b.estimate:.3f} [{b.low:.3f}, {b.high:.3f}] {texts[v.best]!r}"
                    f"\tworst={v.worst} {w.estimate:.3f} [{w.low:.3f}, {w.high:.3f}] {texts[v.worst]!r}"
                    f"\tspread p={v.selection_p:.3g}\tpair p={v.p:.3g}"
                    f"\tmcnemar={v.best_only} vs {v.worst_only} p={v.mcnemar_p:.3g}"
                )
    return "\n".join(lines), qualifying


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--evals-dir", type=Path, help="unpacked evals wheel: .../evals/registry/data")
    parser.add_argument("--rounds", default="40,80,120", help="examples per task after each round")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="per-task JSONL directory")
    parser.add_argument("--tasks", default="", help="comma-separated task names, in priority order")
    parser.add_argument("--variants", default="", help="comma-separated subset of variants (default: all)")
    parser.add_argument("--chunk", type=int, default=16, help="examples per engine call")
    parser.add_argument("--report", action="store_true", help="only print the table of what is scored")
    parser.add_argument("--qualifying-out", type=Path, help="also write the qualifying lines here")
    args = parser.parse_args(argv)
    tasks = load_screen_tasks(args.evals_dir)
    if args.tasks:
        by_name = {task.name: task for task in tasks}
        tasks = [by_name[name] for name in args.tasks.split(",")]  # in the order given: a priority
    if not args.report:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        names = args.variants.split(",") if args.variants else None
        run(tasks, [int(size) for size in args.rounds.split(",")], names, args.out, args.chunk)
    table, qualifying = report(tasks, args.out)
    print(table)
    print("\nvariants:", ", ".join(["bare", *(f"{k}@system|user" for k in INSTRUCTION_KINDS[1:])]))
    print("qualifying:", *qualifying, sep="\n")
    if args.qualifying_out is not None:
        args.qualifying_out.write_text("".join(line + "\n" for line in qualifying), encoding="utf-8")


if __name__ == "__main__":
    main()
