"""What this transformers release's model ``forward`` takes: the KV-cache argument and ``logits_to_keep``.

transformers 5.24 renamed the KV cache from ``past_key_values`` to ``cache`` (argument and output
field) and deprecates the old name for removal in 5.40; releases before 5.24 know only the old name.
The local model asks the model's own signature instead of comparing version numbers, so the same code
runs on every release that ``pyproject.toml`` admits without a deprecation warning.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

__all__ = ["accepts_logits_to_keep", "cache_argument", "returned_cache"]


@cache
def _forward_parameters(forward_type: type) -> frozenset[str]:
    return frozenset(inspect.signature(forward_type.forward).parameters)


def _parameters(model: Any) -> frozenset[str]:
    return _forward_parameters(type(model))


def accepts_logits_to_keep(model: Any) -> bool:
    """Whether the model's forward can skip the output head for all but the last positions."""
    return "logits_to_keep" in _parameters(model)


def cache_argument(model: Any, kv_cache: Any) -> dict[str, Any]:
    """Keyword arguments passing ``kv_cache`` (or ``None`` to start one) under the name this release uses.

    Args:
        model: a transformers causal LM.
        kv_cache: a ``transformers.Cache`` from an earlier call, or ``None``.

    Returns:
        ``{"cache": kv_cache, "use_cache": True}`` on transformers >= 5.24, else the same under
        ``past_key_values``.
    """
    name = "cache" if "cache" in _parameters(model) else "past_key_values"
    return {name: kv_cache, "use_cache": True}


def returned_cache(output: Any) -> Any:
    """The KV cache a forward call returned (``output.cache`` on >= 5.24, ``past_key_values`` before)."""
    fields = output.__dataclass_fields__
    return output.cache if "cache" in fields else output.past_key_values
