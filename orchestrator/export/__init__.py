"""A run's winner out of this tool: ``export_winner(run_id, "dspy" | "json" | "txt")``.

* ``dspy``: a ``Predict`` state file (``dspy.Predict(signature).load(path)``), see ``dspy_format``;
* ``json``: the prompt, its scores with intervals, how they were measured, models, task fingerprint;
* ``txt``: the prompt alone.

Soft prompts keep their own PEFT export (``promptfusion soft train --peft DIR``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from orchestrator.export.winner import ExportedWinner, winner_of

__all__ = ["EXPORT_FORMATS", "ExportFormat", "ExportedWinner", "default_export_path", "export_winner"]

ExportFormat = Literal["dspy", "json", "txt"]
#: Format -> file suffix (dspy's ``load`` wants ``.json``).
EXPORT_FORMATS: dict[str, str] = {"dspy": ".dspy.json", "json": ".json", "txt": ".txt"}


def default_export_path(store_path: str | Path, run_id: str, fmt: ExportFormat) -> Path:
    """``exports/RUN_ID.EXT`` beside the run store."""
    return Path(store_path).parent / "exports" / f"{run_id}{EXPORT_FORMATS[fmt]}"


def export_winner(
    run_id: str,
    fmt: ExportFormat = "json",
    *,
    out: str | Path | None = None,
    store: str | Path | None = None,
) -> Path:
    """Write the winner of a run (a stopped run's best prompt so far) in ``fmt``.

    Args:
        run_id: the run.
        fmt: ``"dspy"``, ``"json"`` or ``"txt"``.
        out: the file to write (its folder is created); default ``default_export_path``.
        store: the run store (default ``$PROMPTFUSION_STORE``, else ``runs/promptfusion.sqlite``).

    Returns:
        The path written.

    Raises:
        ValueError: an unknown format, or a dspy file not ending in ``.json``.
        RunNotFound: no such store or run.
        PromptfusionError: the run has no scored prompt yet.
    """
    from orchestrator.store import RunStore
    from orchestrator.store_location import existing_store

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    db = RunStore(existing_store(store))
    try:
        winner = winner_of(db, run_id)
        path = Path(out) if out is not None else default_export_path(db.path, run_id, fmt)
    finally:
        db.close()
    if fmt == "dspy" and path.suffix != ".json":
        raise ValueError(f"{path}: a dspy state file must end in .json (dspy's load refuses other names)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_render(winner, fmt), encoding="utf-8")
    return path


def _render(winner: ExportedWinner, fmt: ExportFormat) -> str:
    if fmt == "txt":
        return winner.prompt  # exactly the scored text: no newline added
    if fmt == "json":
        return winner.to_json()
    from orchestrator.export.dspy_format import dspy_state

    return json.dumps(dspy_state(winner), indent=2, ensure_ascii=False) + "\n"
