"""The run's SQLite files must be writable: checked when the campaign loads, not when the first
result has to be saved (``check`` used to pass a store it could not write).

The probe writes nothing to the files themselves: an existing file is opened for writing and
closed; for a missing one, a temporary file is created and removed in the nearest existing folder
(the one the store's folders would be made in). Permission bits alone would not do: root ignores
them, and a read-only file system ignores root.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from orchestrator.config import Campaign
from orchestrator.validation.locate import Location

__all__ = ["check_storage", "storage_problem"]


def storage_problem(path: Path) -> str | None:
    """Why a SQLite file cannot be written at ``path`` (with its ``-wal`` beside it), or None."""
    if path.is_dir():
        return f"{path} is a folder, not a SQLite file"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{path} cannot be created: {folder} is a file, not a folder"
    try:
        if path.exists():
            path.open("r+b").close()
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return f"{path} cannot be written: {folder} is not writable ({error.strerror or error})"
    return None


def check_storage(campaign: Campaign, where: Location) -> None:
    """Refuse a ``run.store`` or ``run.cache`` that cannot be written.

    Raises:
        ConfigError: ``file:line: run.store: runs/x.sqlite cannot be written: ...; choose a writable place``.
    """
    for key in ("store", "cache"):
        value = getattr(campaign.run, key)
        if value == ":memory:":
            continue
        problem = storage_problem(Path(value))
        if problem:
            raise where.error(("run", key), f"{problem}; choose a writable place")
