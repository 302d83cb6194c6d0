"""List prices from litellm's shipped cost map, read as JSON (importing litellm takes seconds).

litellm ships ``model_prices_and_context_window_backup.json`` inside its package: one entry per model
name with ``input_cost_per_token``, ``output_cost_per_token`` and ``litellm_provider``. It is read
once per process, without importing litellm (about 0.05 s instead of 3-4 s here).

A name matches an entry exactly; else the longest entry it extends by a snapshot suffix (``-`` then
a digit or ``latest``: ``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``, never ``gpt-4o``); else, for
an alias without a date (``claude-opus-4``), the dated snapshots that extend it, when they all agree
on the price.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CostEntry", "cost_map", "cost_map_label", "lookup_cost"]

_FILE = "model_prices_and_context_window_backup.json"


@dataclass(frozen=True)
class CostEntry:
    """One priced entry: USD per million tokens, and the entry's name in the cost map."""

    key: str
    input_per_mtok: float
    output_per_mtok: float
    provider: str


def _cost_map_path() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / _FILE
        if path.is_file():
            return path
    return None


@functools.cache
def cost_map() -> Mapping[str, CostEntry]:
    """Every entry of the installed litellm's cost map with both token prices ({} without litellm)."""
    path = _cost_map_path()
    if path is None:
        return {}
    entries = {}
    for key, info in json.loads(path.read_text(encoding="utf-8")).items():
        if not isinstance(info, dict):
            continue
        cost_in, cost_out = info.get("input_cost_per_token"), info.get("output_cost_per_token")
        if isinstance(cost_in, int | float) and isinstance(cost_out, int | float):
            provider = str(info.get("litellm_provider", ""))
            entries[key] = CostEntry(key, float(cost_in) * 1e6, float(cost_out) * 1e6, provider)
    return entries


@functools.cache
def cost_map_label() -> str:
    """``"litellm 1.103.7 cost map"``: where a price came from, for the dry run and the report."""
    try:
        return f"litellm {importlib.metadata.version('litellm')} cost map"
    except importlib.metadata.PackageNotFoundError:
        return "litellm cost map"


def _snapshot_suffix(suffix: str) -> bool:
    return suffix[:1].isdigit() or suffix == "latest"


def lookup_cost(name: str, providers: Sequence[str] | None = None) -> CostEntry | None:
    """The cost map's entry for ``name`` (see the module docstring), or None.

    Args:
        name: the model as the provider knows it (``"claude-opus-4-5-20251101"``).
        providers: accept only entries of these ``litellm_provider`` values (None: any).
    """
    entries = cost_map()

    def usable(entry: CostEntry | None) -> bool:
        return entry is not None and (providers is None or entry.provider in providers)

    exact = entries.get(name)
    if usable(exact):
        return exact
    extended = [
        e
        for key, e in entries.items()
        if name.startswith(key + "-") and _snapshot_suffix(name[len(key) + 1 :]) and usable(e)
    ]
    if extended:
        return max(extended, key=lambda e: len(e.key))
    dated = [
        e for key, e in entries.items() if key.startswith(name + "-") and key[len(name) + 1 :][:1].isdigit()
    ]
    dated = [e for e in dated if usable(e) and all(c.isdigit() or c == "-" for c in e.key[len(name) + 1 :])]
    if dated and len({(e.input_per_mtok, e.output_per_mtok) for e in dated}) == 1:
        return max(dated, key=lambda e: e.key)
    return None
