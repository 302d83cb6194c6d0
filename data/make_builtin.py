"""Regenerate the built-in task suite (``data/bigbench/``) from the BIG-bench 1.0.0 sdist.

Usage:
    python data/make_builtin.py [PATH/TO/bigbench-1.0.0.tar.gz] [--out data/bigbench]
    python data/make_builtin.py --derived-only [--out data/bigbench]

Without a path, the sdist is fetched with ``pip download --no-deps bigbench==1.0.0`` (358 MB; never
``pip install`` it: that pulls tensorflow). Package indexes that serve only bigbench 0.0.1 (no task
files) make that fail with a one-line message: pass a local copy of the tarball instead. Task JSON
files are read straight from the tarball. The output is deterministic: the same sdist always gives
byte-identical files.

Derived sub-tasks (``DERIVED_SPECS``, e.g. ``multiemo_en_polarity``) are cut from the shipped files
of their parent task, so ``python data/make_builtin.py --derived-only`` rebuilds them without the sdist.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SDIST_NAME = "bigbench-1.0.0.tar.gz"
TASKS_ROOT = "bigbench-1.0.0/bigbench/benchmark_tasks/"
DEFAULT_OUT = Path(__file__).resolve().parent / "bigbench"
SAMPLE_SEED = "promptfusion-builtin-v1"

Parsed = tuple[dict[str, str], str] | None


def single(field_name: str) -> Callable[[dict[str, Any], str], Parsed]:
    """A parser that keeps the whole input as one field."""

    def parse(example: dict[str, Any], label: str) -> Parsed:
        return {field_name: example["input"].strip()}, label

    return parse


def split_pair(pattern: str, first: str = "premise", second: str = "hypothesis") -> Callable[..., Parsed]:
    """A parser that splits the input into two fields with a regex of two groups (None if it fails)."""
    regex = re.compile(pattern, re.DOTALL)

    def parse(example: dict[str, Any], label: str) -> Parsed:
        match = regex.match(example["input"])
        if not match:
            return None
        return {first: match.group(1).strip(), second: match.group(2).strip()}, label

    return parse


def short_text(limit: int) -> Callable[..., Parsed]:
    """A single-field parser that drops inputs longer than ``limit`` characters (keeps prompts fast)."""

    def parse(example: dict[str, Any], label: str) -> Parsed:
        text = example["input"].strip()
        return ({"text": text}, label) if len(text) <= limit else None

    return parse


@dataclass(frozen=True)
class Spec:
    """How one built-in task is cut from one BIG-bench task."""

    name: str
    source_task: str
    family: str
    instruction: str
    parse: Callable[[dict[str, Any], str], Parsed]
    input_fields: tuple[str, ...]
    max_examples: int = 300
    label_map: dict[str, str] = field(default_factory=dict)


SPECS = (
    # --- natural language inference ------------------------------------------------------------
    Spec("presuppositions_as_nli", "presuppositions_as_nli", "nli",
         "Decide whether the premise entails the hypothesis, contradicts it, or neither. "
         "Answer with one word: entailment, neutral or contradiction.",
         split_pair(r"\s*Sentence 1:(.*?)\nSentence 2:(.*?)\n\s*The answer is:"), ("premise", "hypothesis")),
    Spec("epistemic_reasoning", "epistemic_reasoning", "nli",
         "Decide whether the premise entails the hypothesis. Answer entailment or non-entailment.",
         split_pair(r"\s*Premise:(.*?)Hypothesis:(.*)"), ("premise", "hypothesis")),
    Spec("vitaminc_fact_verification", "vitaminc_fact_verification", "nli",
         "The premise is a quote from Wikipedia. Based only on it, is the hypothesis (a claim) True, "
         "False, or Neither (the quote does not say)? Answer True, False or Neither.",
         split_pair(r"(.*?)\nClaim:(.*)"), ("premise", "hypothesis")),
    Spec("analytic_entailment", "analytic_entailment", "nli",
         "Does the first sentence entail the second? Answer entailment or no-entailment.",
         single("sentences"), ("sentences",)),
    # --- sentiment, irony and sarcasm ---------------------------------------------------------
    Spec("multiemo_en", "multiemo/all_text_en", "sentiment",
         "Classify the sentiment of the review. "
         "Answer with one word: positive, negative, neutral or ambivalent.",
         short_text(600), ("text",)),
    Spec("irony_identification", "irony_identification", "sentiment",
         "Is the sentence ironic? Answer ironic or not ironic.", single("text"), ("text",)),
    Spec("snarks", "snarks", "sentiment",
         "Which of the two statements is sarcastic? Answer (a) or (b).", single("text"), ("text",)),
    # --- commonsense -------------------------------------------------------------------------
    Spec("sports_understanding", "sports_understanding", "commonsense",
         "Is the statement about sports plausible or implausible? Answer plausible or implausible.",
         single("statement"), ("statement",)),
    Spec("causal_judgment", "causal_judgment", "commonsense",
         "Read the story. How would a typical person answer the question about causation at its end? "
         "Answer Yes or No.", single("story"), ("story",)),
    Spec("strategyqa", "strategyqa", "commonsense",
         "Answer the question with Yes or No.", single("question"), ("question",)),
    # --- logic ---------------------------------------------------------------------------------
    Spec("navigate", "navigate", "logic",
         "If you follow these instructions, do you return to the starting point? Answer True or False.",
         single("instructions"), ("instructions",)),
    Spec("formal_fallacies", "formal_fallacies_syllogisms_negation", "logic",
         "Is the argument, given the explicitly stated premises, deductively valid or invalid? "
         "Answer valid or invalid.", single("argument"), ("argument",)),
)  # fmt: skip


@dataclass(frozen=True)
class DerivedSpec:
    """A sub-task cut from a shipped built-in task by keeping only some of its labels.

    It is rebuilt from the shipped JSONL (``--derived-only``), so it needs no sdist.
    """

    name: str
    parent: str
    family: str
    labels: tuple[str, ...]
    description: str
    instruction: str


DERIVED_SPECS = (
    DerivedSpec("multiemo_en_polarity", "multiemo_en", "sentiment", ("positive", "negative"),
                "Binary sentiment of short English reviews (MultiEmo): is the review positive or negative? "
                "The ambivalent and neutral reviews of multiemo_en are left out.",
                "Classify the sentiment of the review. Answer with one word: positive or negative."),
)  # fmt: skip


def gold_label(example: dict[str, Any]) -> str | None:
    """The single best-scoring choice, or None when the top score is tied."""
    scores = example.get("target_scores") or {}
    if not scores:
        return None
    best = max(scores.values())
    winners = [choice for choice, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def build_task(spec: Spec, task_json: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Parse, filter and sample one task. Returns its manifest entry and its rows."""
    labels = sorted({choice for ex in task_json["examples"] for choice in ex.get("target_scores", {})})
    rows, skipped = [], 0
    for example in task_json["examples"]:
        label = gold_label(example)
        parsed = spec.parse(example, label) if label is not None else None
        if parsed is None or not all(parsed[0].values()):
            skipped += 1
            continue
        inputs, label = parsed
        rows.append({**inputs, "label": spec.label_map.get(label, label)})
    total = len(rows)
    if total > spec.max_examples:
        rows = random.Random(f"{SAMPLE_SEED}:{spec.name}").sample(rows, spec.max_examples)
    entry = {
        "name": spec.name,
        "file": f"{spec.name}.jsonl",
        "family": spec.family,
        "description": task_json.get("description", "").strip(),
        "instruction": spec.instruction,
        "input_fields": list(spec.input_fields),
        "label_field": "label",
        "labels": [spec.label_map.get(label, label) for label in labels],
        "n_examples": len(rows),
        "source": f"BIG-bench 1.0.0, benchmark_tasks/{spec.source_task} ({total} usable of "
        f"{len(task_json['examples'])}; {skipped} skipped: tied, unparsable or too long)",
        "canary": task_json.get("canary", ""),
    }
    return entry, rows


def derive_task(
    spec: DerivedSpec, parent: dict[str, Any], parent_rows: list[dict[str, str]]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Keep the parent's rows whose label is in ``spec.labels``, in the parent's order."""
    rows = [row for row in parent_rows if row["label"] in spec.labels]
    counts = ", ".join(f"{sum(row['label'] == label for row in rows)} {label}" for label in spec.labels)
    entry = {
        "name": spec.name,
        "file": f"{spec.name}.jsonl",
        "family": spec.family,
        "description": spec.description,
        "instruction": spec.instruction,
        "input_fields": list(parent["input_fields"]),
        "label_field": "label",
        "labels": list(spec.labels),
        "n_examples": len(rows),
        "source": f"built-in {spec.parent}, labels {'/'.join(spec.labels)} only ({counts}); "
        f"parent: {parent['source']}",
        "canary": parent["canary"],
    }
    return entry, rows


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    lines = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_derived(out: Path, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rebuild the derived sub-tasks from the parent files already in ``out``: an entry already in the
    manifest is replaced where it stands, a new one is appended."""
    by_name = {entry["name"]: entry for entry in entries}
    result = list(entries)
    for spec in DERIVED_SPECS:
        parent = by_name[spec.parent]
        parent_lines = (out / parent["file"]).read_text(encoding="utf-8").splitlines()
        entry, rows = derive_task(spec, parent, [json.loads(line) for line in parent_lines if line])
        write_rows(out / entry["file"], rows)
        names = [existing["name"] for existing in result]
        if spec.name in names:
            result[names.index(spec.name)] = entry
        else:
            result.append(entry)
        print(f"{spec.name:28s} {entry['n_examples']:4d} examples  {entry['labels']}")
    return result


def write_manifest(out: Path, entries: list[dict[str, Any]]) -> None:
    manifest = {
        "suite": "promptfusion built-in tasks v1",
        "license": "Apache-2.0 (BIG-bench, Copyright 2021 Google LLC); see LICENSE-bigbench",
        "generated_by": "data/make_builtin.py from bigbench-1.0.0.tar.gz",
        "tasks": entries,
    }
    (out / "tasks.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_task_jsons(sdist: Path, source_tasks: set[str]) -> dict[str, dict[str, Any]]:
    """Read the wanted ``task.json`` files in one pass over the archive (a gzip stream seeks slowly)."""
    wanted = {f"{TASKS_ROOT}{task}/task.json": task for task in source_tasks}
    found: dict[str, dict[str, Any]] = {}
    with tarfile.open(sdist, mode="r|gz") as archive:
        for member in archive:
            if member.name in wanted and member.isfile():
                handle = archive.extractfile(member)
                if handle is not None:
                    found[wanted[member.name]] = json.load(handle)
    missing = sorted(source_tasks - set(found))
    if missing:
        raise SystemExit(f"{sdist}: task.json missing for {missing}")
    return found


def fetch_sdist(into: Path) -> Path:
    """``pip download --no-deps bigbench==1.0.0`` (the sdist only; nothing is installed).

    Raises:
        SystemExit: one line saying the sdist could not be fetched and how to pass a local copy.
    """
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(into),
           "bigbench==1.0.0"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    sdist = into / SDIST_NAME
    if done.returncode != 0 or not sdist.is_file():
        # The index may now serve only bigbench 0.0.1, which holds no task files: say so in one line.
        reason = next((line for line in done.stderr.splitlines() if "from versions" in line), "")
        raise SystemExit(
            f"make_builtin: cannot fetch {SDIST_NAME} with pip ({reason.strip() or 'pip download failed'}); "
            f"pass a local copy: python data/make_builtin.py /path/to/{SDIST_NAME}, or regenerate only "
            "the derived sub-tasks from the shipped files: python data/make_builtin.py --derived-only"
        )
    return sdist


def write_suite(sdist: Path, out: Path) -> list[dict[str, Any]]:
    """Write ``tasks.json`` and one compact JSONL file per task into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    sources = read_task_jsons(sdist, {spec.source_task for spec in SPECS})
    for spec in SPECS:
        entry, rows = build_task(spec, sources[spec.source_task])
        write_rows(out / entry["file"], rows)
        entries.append(entry)
        print(f"{spec.name:28s} {entry['n_examples']:4d} examples  {entry['labels']}")
    entries = write_derived(out, entries)
    write_manifest(out, entries)
    return entries


def rewrite_derived(out: Path) -> list[dict[str, Any]]:
    """Regenerate only the derived sub-tasks from the shipped files in ``out`` (no sdist needed)."""
    entries = write_derived(out, json.loads((out / "tasks.json").read_text(encoding="utf-8"))["tasks"])
    write_manifest(out, entries)
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sdist", nargs="?", type=Path, help=f"path to {SDIST_NAME} (downloaded if omitted)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--derived-only", action="store_true",
        help="rebuild only the derived sub-tasks (e.g. multiemo_en_polarity) from the files already in --out",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.derived_only:
        rewrite_derived(args.out)
        return
    if args.sdist is not None:
        write_suite(args.sdist, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_suite(fetch_sdist(Path(tmp)), args.out)


if __name__ == "__main__":
    main()
