"""Loading a campaign for a command: the library validates, the CLI prints its warnings as lines."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from orchestrator.config import Campaign

__all__ = ["load_for_command"]


def load_for_command(path: Path, *, allow_unpriced: bool = False) -> Campaign:
    """``load_campaign(path)``, printing each ``DataWarning`` as ``warning: ...`` on stderr.

    Args:
        path: the campaign file.
        allow_unpriced: the ``--allow-unpriced`` flag (False: as the file says).
    """
    from orchestrator.config import load_campaign
    from orchestrator.errors import DataWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        campaign = load_campaign(path, allow_unpriced=True if allow_unpriced else None)
    for warning in caught:
        if issubclass(warning.category, DataWarning):
            typer.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return campaign
