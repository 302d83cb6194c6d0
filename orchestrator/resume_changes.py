"""Which settings a resumed run may take from a corrected campaign file, and which it may not.

A run that failed on a bad model, key, server or budget is fixed by editing the campaign and
resuming: models (names, servers, options, concurrency, limits), budgets and where results go may
change. Everything the scores already recorded depend on (tasks, splits, seed, search settings,
objective, scoring mode, soft-prompt settings) may not, unless nothing was scored yet: a resumed run
mixing scores measured two ways would compare candidates that cannot be compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from orchestrator.errors import ResumeRefused

__all__ = ["MAY_CHANGE", "changed_settings", "check_resume_changes", "check_task_data", "task_fingerprints"]

# Dotted prefixes of the resolved config that a resume may change.
MAY_CHANGE = ("name", "models", "budget", "run.store", "run.cache", "tracking")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    return {prefix: value}


def changed_settings(saved: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(dotted path, saved value, new value)`` for every setting that differs, sorted by path."""
    old_flat, new_flat = _flatten(saved), _flatten(new)
    missing = object()
    return [
        (path, old_flat.get(path), new_flat.get(path))
        for path in sorted(old_flat.keys() | new_flat.keys())
        if old_flat.get(path, missing) != new_flat.get(path, missing)
    ]


def _allowed(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + ".") for prefix in MAY_CHANGE)


def check_resume_changes(
    run_id: str, saved: Mapping[str, Any], new: Mapping[str, Any], *, scored: bool
) -> list[str]:
    """The dotted paths that change; raise when one of them would invalidate what was scored.

    Args:
        run_id: the run being resumed (named in the error).
        saved, new: the run's resolved config and the corrected campaign's.
        scored: whether the run has scored any candidate yet (if not, anything may change).

    Raises:
        ResumeRefused: names each refused setting with its saved and new value.
    """
    changes = changed_settings(saved, new)
    refused = [(path, old, now) for path, old, now in changes if not _allowed(path)]
    if refused and scored:
        listed = "; ".join(f"{path} (run: {old!r}, file: {now!r})" for path, old, now in refused)
        raise ResumeRefused(
            f"cannot resume run {run_id} with this campaign: {listed} would invalidate what was already "
            f"scored; restore {'it' if len(refused) == 1 else 'them'} or start a new run "
            f"(a resume may change only {', '.join(MAY_CHANGE)})"
        )
    return [path for path, _, _ in changes]


def task_fingerprints(tasks: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Task name -> ``{"sha256", "source"}`` of the examples as loaded (inputs, targets, labels).

    Recorded when a run starts, so a resume can tell that a file was edited in between."""
    prints = {}
    for name, task in sorted(tasks.items()):
        content = {
            "labels": list(task.labels) if task.labels is not None else None,
            "examples": [[ex.uid, dict(ex.inputs), ex.target] for ex in task.examples],
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        prints[name] = {"sha256": digest, "source": str(task.source or name)}
    return prints


def check_task_data(run_id: str, recorded: Mapping[str, Any], tasks: Mapping[str, Any]) -> None:
    """Refuse to resume on task data other than the run started with (runs without a record pass).

    Raises:
        ResumeRefused: ``cannot resume run ID: the data of task X changed since the run started (FILE)``.
    """
    current = task_fingerprints(tasks)
    for name, saved in sorted(recorded.items()):
        now = current.get(name)
        if now is not None and now["sha256"] != saved.get("sha256"):
            raise ResumeRefused(
                f"cannot resume run {run_id}: the data of task {name} changed since the run started "
                f"({now['source']}); restore the file or start a new run"
            )
