"""Approximate list prices for common hosted models, to put a USD figure on each call.

The table is a convenience, not a bill: prices change, and batch / cached-input discounts are
ignored. Unknown models cost ``None`` (the ledger then reports tokens only). A campaign can set
``options: {price_usd_per_mtok: [input, output]}`` on a model to override or add a price
(e.g. ``[0, 0]`` for a self-hosted vLLM server).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["PRICES_USD_PER_MTOK", "Price", "price_for"]


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


# (input, output) USD per 1M tokens, list prices as published by the providers in 2025.
PRICES_USD_PER_MTOK: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        # OpenAI
        "gpt-3.5-turbo": (0.50, 1.50),
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "gpt-5": (1.25, 10.00),
        "gpt-5-mini": (0.25, 2.00),
        "gpt-5-nano": (0.05, 0.40),
        "o3-mini": (1.10, 4.40),
        "o4-mini": (1.10, 4.40),
        # Anthropic
        "claude-3-haiku": (0.25, 1.25),
        "claude-3-5-haiku": (0.80, 4.00),
        "claude-haiku-4-5": (1.00, 5.00),
        "claude-3-5-sonnet": (3.00, 15.00),
        "claude-3-7-sonnet": (3.00, 15.00),
        "claude-sonnet-4": (3.00, 15.00),
        "claude-sonnet-4-5": (3.00, 15.00),
        "claude-3-opus": (15.00, 75.00),
        "claude-opus-4": (15.00, 75.00),
        "claude-opus-4-1": (15.00, 75.00),
    }
)


def price_for(model_name: str, options: Mapping[str, Any] | None = None) -> Price | None:
    """The price of ``model_name`` (without provider prefix), or None when unknown.

    Args:
        model_name: e.g. ``"gpt-4o-mini"``, a dated snapshot ``"gpt-4o-mini-2024-07-18"`` or an
            alias ``"claude-3-5-haiku-latest"`` (a table name, ``-``, then a digit or ``latest``).
        options: backend options; ``price_usd_per_mtok: [input, output]`` wins over the table.

    Returns:
        A ``Price`` or None.

    Raises:
        ValueError: when the ``price_usd_per_mtok`` option is not two non-negative numbers.
    """
    override = (options or {}).get("price_usd_per_mtok")
    if override is not None:
        try:
            input_price, output_price = (float(x) for x in override)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"price_usd_per_mtok must be [input, output] numbers, got {override!r}"
            ) from error
        if input_price < 0 or output_price < 0:
            raise ValueError(f"price_usd_per_mtok must be non-negative, got {override!r}")
        return Price(input_price, output_price)
    if model_name in PRICES_USD_PER_MTOK:
        return Price(*PRICES_USD_PER_MTOK[model_name])
    for known, prices in PRICES_USD_PER_MTOK.items():
        suffix = model_name[len(known) + 1 :]
        if model_name.startswith(known + "-") and (suffix[:1].isdigit() or suffix == "latest"):
            return Price(*prices)
    return None
