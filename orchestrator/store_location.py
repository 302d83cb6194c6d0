"""Where the commands and ``resume()`` look for a run store when none is named.

One rule, documented in the README and ``docs/troubleshooting.md``: ``--store`` (or ``store=``) when
given, else the ``PROMPTFUSION_STORE`` environment variable, else ``runs/promptfusion.sqlite`` in the
current directory. A campaign with its own ``run.store`` prints that path with every run; export it
once (``export PROMPTFUSION_STORE=...``) and ``runs``, ``show`` and ``report`` find its runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator.errors import RunNotFound

__all__ = ["DEFAULT_STORE", "STORE_ENV", "existing_store", "store_path"]

DEFAULT_STORE = "runs/promptfusion.sqlite"
STORE_ENV = "PROMPTFUSION_STORE"


def store_path(given: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The run store to use: ``given``, else ``$PROMPTFUSION_STORE``, else the default."""
    if given is not None:
        return Path(given)
    env = os.environ if environ is None else environ
    return Path(env.get(STORE_ENV) or DEFAULT_STORE)


def existing_store(
    given: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """``store_path``, which must exist.

    Raises:
        RunNotFound: no store there (the message says how to point at one).
    """
    path = store_path(given, environ)
    if not path.exists():
        raise RunNotFound(
            f"{path}: no run store here (pass --store, set {STORE_ENV}, or run a campaign first)"
        )
    return path
