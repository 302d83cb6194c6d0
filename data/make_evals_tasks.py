"""Classification tasks cut from OpenAI's ``evals`` registry data (MIT), for the screen and the suite.

The ``evals`` wheel carries its registry data as plain JSONL (``evals/registry/data/``); get it with
``pip download --no-deps evals==3.0.1.post1 -d /tmp/evals && unzip -q /tmp/evals/*.whl -d /tmp/evals``.
Each row's chat messages hold the eval's own instruction; only the item itself is kept as the input
(a fixed lead-in question or trailing answer format is cut off), and the gold answer is mapped to a
label word.

``benchmarks/instruction_screen.py`` screens every task of ``EVALS_SPECS``; those in ``SHIPPED``
(they passed the screen) are written into the built-in suite:

    python data/make_evals_tasks.py /tmp/evals/evals/registry/data [--out data/bigbench]

The output is deterministic: the same wheel gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent / "bigbench"
EVALS_VERSION = "evals 3.0.1.post1"


@dataclass(frozen=True)
class EvalsSpec:
    """How one evals JSONL file becomes a classification task (one ``text`` field)."""

    name: str
    path: str  # under evals/registry/data/
    label_map: dict[str, str]
    description: str
    definitions: str
    prefix: str = ""  # cut from the start of the user message
    suffix: str = ""  # cut from its end
    family: str = field(default="evals", compare=False)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.label_map.values()))


EVALS_SPECS = (
    EvalsSpec("evals_sarcasm_headlines", "sarcasm/samples.jsonl", {"1": "sarcastic", "0": "not sarcastic"},
              "Is this news headline sarcastic?",
              "Answer sarcastic if the headline mocks its subject in the style of a satirical news site, "
              "and not sarcastic if it is a plain news headline.", family="sentiment"),
    EvalsSpec("evals_food", "food/samples.jsonl", {"Yes": "food", "No": "not food"},
              "Is the following string a food item or related to food?",
              "Answer food if the string names something to eat or drink or is about food, and not food "
              "otherwise.", prefix="Is the following string a food item or related to food?",
              family="commonsense"),
    EvalsSpec("evals_naughty_strings", "naughty_strings/samples.jsonl",
              {"Yes": "malicious", "No": "harmless"},
              "Is this string malicious (an injection or attack payload)?",
              "Answer malicious if the string is code or an injection meant to attack software, and "
              "harmless if it is ordinary text.", prefix="Is this string malicious?", family="commonsense"),
    EvalsSpec("evals_which_is_heavier", "which_is_heavier/which_is_heavier.jsonl", {"Yes": "Yes", "No": "No"},
              "Answer the question about which amount weighs more.",
              "Answer Yes if the first amount weighs more than the second, and No if it does not.",
              suffix="Answer Yes or No", family="commonsense"),
    EvalsSpec("evals_born_first", "born_first/born_first.jsonl", {"Y": "Yes", "N": "No"},
              "Answer the question about which US president was born first.",
              "Answer Yes if the first person was born before the second, and No if not.",
              suffix="Answer Y or N.", family="commonsense"),
    EvalsSpec("evals_rectangles", "rectangles/samples.jsonl", {"Yes": "Yes", "No": "No"},
              "The input gives the coordinates ([xMin, xMax], [yMin, yMax]) of two rectangles. "
              "Do they overlap?",
              "Answer Yes if the two rectangles share some area, and No if they do not.", family="logic"),
    EvalsSpec("evals_aba_mrpc_true_false", "aba_mrpc_true_false/samples.jsonl",
              {"True": "True", "False": "False"},
              "Is the statement true according to the ABA Model Rules of Professional Conduct?",
              "Answer True if the ABA Model Rules of Professional Conduct support the statement, and "
              "False if they do not.", family="commonsense"),
)  # fmt: skip

#: Tasks that passed the instruction screen (BENCHMARKS.md, issue 20) -> the seed instruction shipped.
SHIPPED: dict[str, str] = {
    "evals_naughty_strings": "Is this string malicious (an injection or attack payload)? "
    "Answer malicious or harmless.",
    "evals_which_is_heavier": "Which amount weighs more? Answer Yes if the first is heavier, else No.",
}


def read_rows(spec: EvalsSpec, registry_data: Path) -> list[tuple[str, str]]:
    """``(input, label)`` of every row with a known answer, in file order (the screen's indices)."""
    rows = []
    for line in (registry_data / spec.path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        ideal = row["ideal"][0] if isinstance(row["ideal"], list) else row["ideal"]
        user = [m["content"] for m in row["input"] if m["role"] == "user"]
        if str(ideal).strip() not in spec.label_map or len(user) != 1:
            continue
        text = user[0].strip().removeprefix(spec.prefix).removesuffix(spec.suffix).strip()
        rows.append((text, spec.label_map[str(ideal).strip()]))  # an empty text stays: stable indices
    return rows


def manifest_entry(spec: EvalsSpec, instruction: str, rows: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "file": f"{spec.name}.jsonl",
        "family": spec.family,
        "description": spec.description,
        "instruction": instruction,
        "input_fields": ["text"],
        "label_field": "label",
        "labels": list(spec.labels),
        "n_examples": len(rows),
        "source": f"OpenAI evals ({EVALS_VERSION}), evals/registry/data/{spec.path}",
        "license": "MIT (Copyright (c) 2023 OpenAI); see LICENSE-openai-evals",
        "canary": "",
    }


def write_shipped(registry_data: Path, out: Path) -> list[dict[str, Any]]:
    """Write each ``SHIPPED`` task's JSONL and add (or replace) its entry in ``out/tasks.json``."""
    manifest_path = out / "tasks.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    specs = {spec.name: spec for spec in EVALS_SPECS}
    entries = [entry for entry in manifest["tasks"] if entry["name"] not in SHIPPED]
    for name, instruction in SHIPPED.items():
        rows = [(text, label) for text, label in read_rows(specs[name], registry_data) if text]
        records = [{"text": text, "label": label} for text, label in rows]
        lines = [json.dumps(record, ensure_ascii=False, separators=(",", ":")) for record in records]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        entries.append(manifest_entry(specs[name], instruction, rows))
        print(f"{name:28s} {len(rows):4d} examples  {list(specs[name].labels)}")
    manifest["tasks"] = entries
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return entries


def main(argv: list[str] | None = None) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("registry_data", type=Path, help="the unpacked wheel's evals/registry/data")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the suite directory (tasks.json)")
    args = parser.parse_args(argv)
    write_shipped(args.registry_data, args.out)


if __name__ == "__main__":
    main()
