"""Tables of ``benchmarks.embedded_search_quality``'s results: held-out quality with 95% intervals.

Per budget and tool, the test examples of all seeds are pooled (each seed's returned instruction on
that seed's test split): accuracy and balanced accuracy of the raw label-likelihood arg-max with
percentile-bootstrap intervals over those examples, balanced accuracy after batch calibration, and
the paired difference against the starting instruction on the same examples (same resampled
indices); then ours against each other tool at the same budget, paired the same way. The interval
is test-sample noise around the instructions the tools returned; the spread between seeds (the
search's own luck) shows in the per-seed column. The majority-class row answers
each seed's most frequent test label everywhere.

The seeds' test splits overlap (most of a task's examples are in each), so one example appears in
the pool up to once per seed. Every interval resamples examples, not rows: an example's rows are
drawn together (``clusters`` of ``evaluators.bootstrap``). Rows are tied to their example by
``test["ids"]``, rebuilt from the results header (task and split) and the seed, and checked
against the recorded gold labels. Examples with identical inputs share an id, so they are one
cluster (they would get the same answers anyway).

Usage: ``python -m benchmarks.embedded_search_report RESULTS.jsonl [MORE.jsonl ...] [--markdown PATH]
[--ours 'promptfusion edits']``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.bootstrap import bootstrap_metric_ci, paired_bootstrap
from evaluators.label_calibration import batch_calibrate
from evaluators.label_rows import encode_labels, label_metric_rows

START = "starting instruction"
RESAMPLES = 2000


@dataclass
class Pooled:
    """Gold and predicted label indices of several runs' test examples, concatenated in seed order,
    and the example each row is (rows of one example are resampled together)."""

    k: int
    gold: np.ndarray
    raw: np.ndarray
    calibrated: np.ndarray
    examples: list[str]

    def metric(self, name: str, which: str = "raw"):
        predicted = self.raw if which == "raw" else self.calibrated

        def value(idx: np.ndarray) -> float:
            return float(label_metric_rows(self.gold[idx], predicted[idx], self.k, name)[0])

        value.batched = lambda idx: label_metric_rows(self.gold[idx], predicted[idx], self.k, name)
        return value


def pool(tests: Sequence[dict[str, Any]]) -> Pooled:
    """Pool the test results of runs (one per seed); calibration is per run, over its own split."""
    labels = tests[0]["labels"]
    gold, raw, calibrated, examples = [], [], [], []
    for test in tests:
        if len(test.get("ids", ())) != len(test["gold"]):
            raise ValueError("a test result without one example id per row: load it with load()")
        examples.extend(test["ids"])
        gold.append(encode_labels(test["gold"], labels))
        raw.append(encode_labels(test["predicted"], labels))
        if all(p is not None for p in test["probs"]):
            calibrated.append(np.argmax(batch_calibrate(test["probs"]), axis=1))
        else:  # no label probabilities (a failed example): the raw prediction stands
            calibrated.append(raw[-1])
    return Pooled(
        len(labels), np.concatenate(gold), np.concatenate(raw), np.concatenate(calibrated), examples
    )


def example_id(inputs: dict[str, Any]) -> str:
    """A short stable key of one example's inputs."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _setting_of(header: str) -> tuple[str, tuple[float, ...] | None]:
    """The task and split fractions a results header names (None: the task's own split)."""
    task = re.search(r"\| task (\S+) \|", header)
    split = re.search(r"\| split \[([^\]]*)\]", header)
    if task is None:
        raise ValueError(f"results header names no task: {header[:120]!r}")
    fractions = tuple(float(f) for f in split.group(1).split(",")) if split else None
    return task.group(1), fractions


@functools.cache
def _test_split(name: str, fractions: tuple[float, ...] | None, seed: int) -> tuple[list[str], list[str]]:
    """Gold labels and example ids of a built-in task's test split (loaded once per setting and seed:
    a results file holds many runs of each)."""
    import dataclasses

    from orchestrator.tasks import load_builtin_task

    task = load_builtin_task(name)
    if fractions is not None:
        task = dataclasses.replace(task, split_fractions=fractions)
    examples = task.splits(seed).test
    return [e.target for e in examples], [example_id(e.inputs) for e in examples]


def attach_example_ids(run: dict[str, Any], header: str) -> None:
    """Give ``run["test"]`` its example ids, from the header's task and split and the run's seed.

    Raises:
        ValueError: the rebuilt split's gold labels are not the recorded ones (the task's data or
            its split changed since the run).
    """
    name, fractions = _setting_of(header)
    gold, ids = _test_split(name, fractions, run["seed"])
    if gold != list(run["test"]["gold"]):
        raise ValueError(
            f"{run['tool']} seed {run['seed']}: the test split of {name} rebuilt from the header does "
            "not match the recorded gold labels"
        )
    run["test"]["ids"] = list(ids)


def majority_test(test: dict[str, Any]) -> dict[str, Any]:
    """The same split answered with its most frequent gold label everywhere (ties: the first label)."""
    counts = Counter(test["gold"])
    label = max(test["labels"], key=lambda name: counts[name])
    one_hot = [1.0 if name == label else 0.0 for name in test["labels"]]
    return {**test, "predicted": [label] * len(test["gold"]), "probs": [one_hot] * len(test["gold"])}


def load(*paths: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Headers and runs of one or more result files (a grid split over processes); a run repeated
    (the starting instruction, copied into each process's file) counts once, and a run that failed
    and was retried (a resumed grid re-runs failures) counts as its first success. Each run's test
    gets its example ids (``attach_example_ids``) unless it has them."""
    headers, runs, at = [], [], {}
    for path in paths:
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        # A grid's file holds one setting; a run written before the file's first header has it too.
        header = next((r["header"] for r in records if "header" in r), "")
        for record in records:
            if "header" in record:
                header = record["header"]
                headers.append(header)
            else:
                if record.get("test") and "ids" not in record["test"]:
                    attach_example_ids(record, header)
                key = (record["tool"], record["budget"], record["seed"])
                if key not in at:
                    at[key] = len(runs)
                    runs.append(record)
                elif runs[at[key]].get("error") and not record.get("error"):
                    runs[at[key]] = record
    return headers, runs


def _ci(interval) -> str:
    return f"{interval.estimate:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _diff(interval) -> str:
    return f"{interval.estimate:+.3f} [{interval.low:+.3f}, {interval.high:+.3f}]"


def table(runs: list[dict[str, Any]], seed: int = 0, which: str = "raw", start: str = START) -> str:
    """One row per (budget, tool), the majority class and starting instruction first.

    Only seeds that have a starting-instruction run are used; a group is compared with the starting
    instruction on the seeds it has.
    """
    starts = {r["seed"]: r for r in runs if r["tool"] == start}
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    failures: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in runs:
        if r["seed"] in starts:
            # A failed run is not scored: it is shown as failed, never as the instruction it fell back to.
            (failures if r.get("error") else groups).setdefault((r["budget"], r["tool"]), []).append(r)
    lines = [
        "| budget | tool | seeds (failed) | test n | accuracy [95% CI] | balanced acc. [95% CI] | "
        "bal. acc. per seed | bal. acc. batch-calibrated | vs start: accuracy | vs start: bal. acc. | "
        "calls (median, range) | generated tokens (median) | wall s (median) |",
        "|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    seeds = sorted(starts)
    majority = [
        {"tool": "majority class", "seed": s, "test": majority_test(starts[s]["test"])} for s in seeds
    ]
    for (budget, tool), group in [((0, "majority class"), majority), *sorted(groups.items())]:
        group = sorted(group, key=lambda r: r["seed"])
        pooled = pool([r["test"] for r in group])
        base = pool([starts[r["seed"]]["test"] for r in group])
        n = len(pooled.gold)
        if pooled.examples != base.examples:
            raise ValueError(f"{tool}: its test rows are not the starting instruction's examples")
        ci = {
            m: bootstrap_metric_ci(
                pooled.metric(m, which), n, n_resamples=RESAMPLES, seed=seed, clusters=pooled.examples
            )
            for m in ("accuracy", "balanced_accuracy")
        }
        calibrated = pooled.metric("balanced_accuracy", "calibrated")(np.arange(n))
        per_seed = ", ".join(f"{per_seed_score(r['test'], which):.2f}" for r in group)
        if tool == start:
            versus = ["-", "-"]
        else:
            versus = [
                _diff(
                    paired_bootstrap(
                        pooled.metric(m, which),
                        base.metric(m, which),
                        n,
                        n_resamples=RESAMPLES,
                        seed=seed,
                        clusters=pooled.examples,
                    ).difference
                )
                for m in ("accuracy", "balanced_accuracy")
            ]
        calls = [r.get("calls", 0) for r in group]
        spend, tokens, wall = "-", "-", "-"
        if any(calls):  # a search (the starting instruction and the majority class cost nothing)
            spend = f"{statistics.median(calls):.0f} ({min(calls)}-{max(calls)})"
            tokens = f"{statistics.median(r['completion_tokens'] for r in group):.0f}"
            wall = f"{statistics.median(r['wall_s'] for r in group):.0f}"
        failed = len(failures.get((budget, tool), []))
        lines.append(
            f"| {budget or '-'} | {tool} | {len(group)} ({failed}) | {n} | {_ci(ci['accuracy'])} | "
            f"{_ci(ci['balanced_accuracy'])} | {per_seed} | {calibrated:.3f} | {versus[0]} | {versus[1]} | "
            f"{spend} | {tokens} | {wall} |"
        )
    for (budget, tool), group in sorted(failures.items()):
        if (budget, tool) not in groups:
            why = f"not run: failed at every seed ({group[0]['error']})"
            rest = " | ".join("-" * 8)  # the 8 columns after accuracy
            lines.append(f"| {budget or '-'} | {tool} | 0 ({len(group)}) | - | {why} | {rest} |")
    return "\n".join(lines)


def head_to_head(
    runs: list[dict[str, Any]], ours: str = "promptfusion", seed: int = 0, which: str = "raw"
) -> str:
    """Ours against every other tool at the same budget, on the seeds both ran: the paired difference
    (ours - theirs) on the same pooled test examples and resamples. Better only where it excludes 0."""
    by_key = {(r["budget"], r["tool"], r["seed"]): r for r in runs if not r.get("error")}
    lines = [
        "| budget | ours vs | seeds | test n | accuracy: ours - theirs [95% CI] | "
        "balanced acc.: ours - theirs [95% CI] | verdict (balanced acc.) |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    others = sorted({(b, t) for (b, t, _) in by_key if b and t != ours})
    for budget, tool in others:
        seeds = sorted(s for (b, t, s) in by_key if b == budget and t == tool and (budget, ours, s) in by_key)
        if not seeds:
            continue
        mine = pool([by_key[(budget, ours, s)]["test"] for s in seeds])
        theirs = pool([by_key[(budget, tool, s)]["test"] for s in seeds])
        n = len(mine.gold)
        if mine.examples != theirs.examples:
            raise ValueError(f"{tool}: its test rows are not ours' examples")
        diffs = {
            m: paired_bootstrap(
                mine.metric(m, which),
                theirs.metric(m, which),
                n,
                n_resamples=RESAMPLES,
                seed=seed,
                clusters=mine.examples,
            ).difference
            for m in ("accuracy", "balanced_accuracy")
        }
        gap = diffs["balanced_accuracy"]
        verdict = "ours better" if gap.low > 0 else ("ours worse" if gap.high < 0 else "no difference shown")
        lines.append(
            f"| {budget} | {tool} | {len(seeds)} | {n} | {_diff(diffs['accuracy'])} | "
            f"{_diff(gap)} | {verdict} |"
        )
    return "\n".join(lines)


def per_seed_score(test: dict[str, Any], which: str = "raw") -> float:
    """Balanced accuracy of one run's test predictions."""
    return pool([test]).metric("balanced_accuracy", which)(np.arange(len(test["gold"])))


def median_check(
    runs: list[dict[str, Any]], ours: str = "promptfusion", rivals: str = "DSPy", which: str = "raw"
) -> str:
    """Issue 20's second condition per budget: our median held-out balanced accuracy over seeds against
    the best median among the tools whose names start with ``rivals``. A rival's median is over the
    seeds it ran; a budget where a rival ran fewer seeds than ours says so, and one where no rival
    ran says "no rival run" rather than "met"."""
    lines = [
        f"| budget | ours median (seeds) | best {rivals} median (tool, seeds) | every {rivals} median | "
        "ours >= best |",
        "|---:|---:|---|---|---|",
    ]
    by_budget: dict[int, dict[str, list[float]]] = {}
    for r in sorted(runs, key=lambda r: r["seed"]):
        if r["budget"] and not r.get("error") and (r["tool"] == ours or r["tool"].startswith(rivals)):
            tools = by_budget.setdefault(r["budget"], {})
            tools.setdefault(r["tool"], []).append(per_seed_score(r["test"], which))
    for budget, scores in sorted(by_budget.items()):
        if ours not in scores:
            continue
        mine = scores.pop(ours)
        ours_cell = f"{statistics.median(mine):.3f} ({len(mine)})"
        medians = {tool: statistics.median(values) for tool, values in scores.items()}
        if not medians:
            lines.append(f"| {budget} | {ours_cell} | no rival run | - | - |")
            continue
        best = max(medians, key=medians.__getitem__)
        every = ", ".join(
            f"{tool} {value:.3f} ({len(scores[tool])})" for tool, value in sorted(medians.items())
        )
        met = "yes" if statistics.median(mine) >= medians[best] else "no"
        if any(len(values) < len(mine) for values in scores.values()):
            met += " (a rival ran fewer seeds)"
        best_cell = f"{medians[best]:.3f} ({best}, {len(scores[best])})"
        lines.append(f"| {budget} | {ours_cell} | {best_cell} | {every} | {met} |")
    return "\n".join(lines)


def instructions(runs: list[dict[str, Any]]) -> str:
    """The returned instructions (shortened), errors and notes, one line per run."""
    lines = []
    for r in sorted(runs, key=lambda r: (r["budget"], r["tool"], r["seed"])):
        if r["budget"] == 0 and r["seed"] > 0:
            continue
        text = " ".join(r["instruction"].split())
        text = text if len(text) <= 160 else text[:157] + "..."
        extra = f" FAILED: {r['error']}" if r.get("error") else ""
        notes = "; ".join(n for n in r.get("notes", []) if n)
        lines.append(f"- {r['budget'] or '-'} / {r['tool']} / seed {r['seed']}: {text!r}{extra} ({notes})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.embedded_search_report", description=__doc__)
    parser.add_argument("results", type=Path, nargs="+", help="JSON-lines files of one grid")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--ours", default="promptfusion", help="the tool the head-to-head table pits against the others"
    )
    parser.add_argument(
        "--predictions",
        choices=["raw", "calibrated"],
        default="raw",
        help="the test predictions of the accuracy, balanced-accuracy and paired columns: raw label "
        "arg-max, or batch-calibrated over each run's split (the product's default scoring)",
    )
    parser.add_argument("--start", default=START, help="the row every other row is paired with")
    args = parser.parse_args(argv)
    headers, runs = load(*args.results)
    tools = sorted({r["tool"] for r in runs})
    if args.ours not in tools:
        parser.error(f"--ours: no run of {args.ours!r} in the results; their tools are {tools}")
    report = "\n".join(
        [
            *dict.fromkeys(headers),
            f"predictions: {args.predictions}; every row paired with {args.start!r}",
            "",
            table(runs, which=args.predictions, start=args.start),
            "",
            head_to_head(runs, args.ours, which=args.predictions),
            "",
            median_check(runs, args.ours, which=args.predictions),
            "",
            instructions(runs),
        ]
    )
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")


if __name__ == "__main__":
    main()
