"""The built-in task suite: BIG-bench tasks shipped in ``data/bigbench/`` (package ``promptfusion_data``).

``tasks.json`` lists each task's metadata, so listing the suite reads one small file; a task's
examples are read only when it is loaded.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import DataError
from orchestrator.tasks.loaders import load_task
from orchestrator.tasks.task import Task

__all__ = [
    "BuiltinTaskInfo",
    "builtin_data_dir",
    "builtin_families",
    "builtin_task_infos",
    "builtin_task_names",
    "load_builtin_task",
    "resolve_task",
]

MANIFEST = "tasks.json"


@dataclass(frozen=True)
class BuiltinTaskInfo:
    """A built-in task's metadata, without its examples."""

    name: str
    family: str
    description: str
    instruction: str
    labels: tuple[str, ...]
    input_fields: tuple[str, ...]
    n_examples: int
    file: Path
    source: str


def builtin_data_dir() -> Path:
    """The directory holding ``tasks.json``: from the installed ``promptfusion_data`` package, else the
    repository's ``data/bigbench`` (running from a checkout)."""
    spec = importlib.util.find_spec("promptfusion_data")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "bigbench"
    return Path(__file__).resolve().parents[2] / "data" / "bigbench"


def builtin_task_infos(data_dir: str | os.PathLike[str] | None = None) -> list[BuiltinTaskInfo]:
    """Metadata of every built-in task, in suite order (grouped by family).

    Raises:
        DataError: the manifest is missing or malformed.
    """
    root = Path(data_dir) if data_dir is not None else builtin_data_dir()
    manifest = root / MANIFEST
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))["tasks"]
        return [
            BuiltinTaskInfo(
                name=e["name"],
                family=e["family"],
                description=e["description"],
                instruction=e["instruction"],
                labels=tuple(e["labels"]),
                input_fields=tuple(e["input_fields"]),
                n_examples=int(e["n_examples"]),
                file=root / e["file"],
                source=e["source"],
            )
            for e in entries
        ]
    except FileNotFoundError:
        raise DataError(f"{manifest}: built-in task manifest not found (run data/make_builtin.py)") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise DataError(f"{manifest}: malformed built-in task manifest ({error!r})") from error


def builtin_task_names(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the built-in tasks, in suite order."""
    return [info.name for info in builtin_task_infos(data_dir)]


def builtin_families(data_dir: str | os.PathLike[str] | None = None) -> dict[str, list[str]]:
    """Family name -> the names of its tasks. Tasks of one family test a related skill."""
    families: dict[str, list[str]] = {}
    for info in builtin_task_infos(data_dir):
        families.setdefault(info.family, []).append(info.name)
    return families


def load_builtin_task(name: str, data_dir: str | os.PathLike[str] | None = None) -> Task:
    """Load one built-in task with its examples.

    Raises:
        DataError: an unknown name (the message suggests close ones) or a malformed data file.
    """
    infos = {info.name: info for info in builtin_task_infos(data_dir)}
    info = infos.get(name)
    if info is None:
        close = difflib.get_close_matches(name, list(infos), n=3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise DataError(f"unknown built-in task {name!r}{hint}; `promptfusion tasks` lists them")
    return load_task(
        info.file,
        name=info.name,
        input_fields=info.input_fields,
        label_field="label",
        labels=info.labels,
        description=info.description,
        instruction=info.instruction,
        family=info.family,
    )


def resolve_task(name_or_path: str, data_dir: str | os.PathLike[str] | None = None) -> Task:
    """A built-in task by name, or a task file (``.jsonl``/``.csv``) or ``datasets`` directory by path.

    Raises:
        DataError: neither a built-in name nor a readable task file.
    """
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() in (".jsonl", ".ndjson", ".csv", ".tsv") or path.is_dir():
        return load_task(path)
    return load_builtin_task(name_or_path, data_dir)
