"""Load-time warnings said as ``warning: ...`` lines, each once.

The checks raise ``DataWarning`` and ``BudgetWarning`` as Python warnings (a library caller can
filter them, a test can expect them). Shown to a person, by the CLI or the Python API, they are lines
in the product's words instead of Python's ``.../reach.py:61: BudgetWarning: ...``; and a campaign
checked twice (``load_campaign``, then ``optimize`` checks it again) says each warning once: the
second check's location (``<campaign>``) differs from the file's, so a warning is known by what
follows its location.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

from orchestrator.errors import BudgetWarning, DataWarning

__all__ = ["LOAD_WARNINGS", "say_load_warnings"]

LOAD_WARNINGS = (DataWarning, BudgetWarning)
T = TypeVar("T")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _without_location(message: str) -> str:
    """``campaign.yaml:12: budget.max_calls: ...`` and ``<campaign>: budget.max_calls: ...`` alike."""
    return message.split(": ", 1)[-1]


def say_load_warnings(
    call: Callable[[], T],
    *,
    said: frozenset[str] = frozenset(),
    write: Callable[[str], None] = _stderr,
    skip: tuple[type[Warning], ...] = (),
) -> tuple[T, frozenset[str]]:
    """Run ``call``, writing each load warning it raises as ``warning: MESSAGE`` unless already said.

    Args:
        call: the loading or checking to run.
        said: what earlier calls said about the same campaign (as this function returns it).
        write: where a line goes (default: standard error).
        skip: categories not to say (``run --max-calls`` replaces the value a ``BudgetWarning`` is about).

    Returns:
        ``call()``'s result and everything said so far (``said`` plus what this call said).
    """
    with warnings.catch_warnings(record=True) as caught:
        for category in LOAD_WARNINGS:
            warnings.simplefilter("always", category)
        result = call()
    for warning in caught:
        if not issubclass(warning.category, LOAD_WARNINGS):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            continue
        key = _without_location(str(warning.message))
        if key not in said and not issubclass(warning.category, skip):
            write(f"warning: {warning.message}")
            said |= {key}
    return result, said
