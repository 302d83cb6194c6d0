"""List prices to put a USD figure on each call, from litellm's shipped cost map.

A price is a convenience, not a bill: batch and cached-input discounts are ignored. Unknown models
cost ``None`` (the ledger then reports tokens only). A campaign can set
``options: {price_usd_per_mtok: [input, output]}`` on a model to override or add a price (e.g.
``[0, 0]`` for a self-hosted vLLM server). Every ``Price`` says where it came from (``source``), so
the dry run can show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.backends.cost_map import cost_map_label, lookup_cost

__all__ = ["PROVIDER_COST_NAMES", "Price", "model_price", "price_for"]

# The cost map's ``litellm_provider`` values each direct backend's model names are priced from.
PROVIDER_COST_NAMES: Mapping[str, tuple[str, ...]] = {
    "openai": ("openai", "text-completion-openai"),
    "anthropic": ("anthropic",),
}
OVERRIDE = "options.price_usd_per_mtok"


@dataclass(frozen=True)
class Price:
    """USD per million tokens, and where the figure came from (not part of equality)."""

    input_per_mtok: float
    output_per_mtok: float
    source: str = field(default="", compare=False)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6

    def describe(self) -> str:
        """``"5/25 USD per Mtok in/out (litellm 1.103.7 cost map: claude-opus-4-5-20251101)"``."""
        return f"{self.input_per_mtok:g}/{self.output_per_mtok:g} USD per Mtok in/out ({self.source})"


def price_for(
    model_name: str, options: Mapping[str, Any] | None = None, provider: str | None = None
) -> Price | None:
    """The price of ``model_name`` (without our provider prefix), or None when unknown.

    Args:
        model_name: e.g. ``"gpt-4o-mini"``, a dated snapshot ``"claude-opus-4-5-20251101"``.
        options: backend options; ``price_usd_per_mtok: [input, output]`` wins over the cost map.
        provider: ``"openai"`` or ``"anthropic"``: only that provider's cost-map entries count.

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
        return Price(input_price, output_price, OVERRIDE)
    entry = lookup_cost(model_name, PROVIDER_COST_NAMES.get(provider) if provider else None)
    if entry is None:
        return None
    return Price(entry.input_per_mtok, entry.output_per_mtok, f"{cost_map_label()}: {entry.key}")


def model_price(model: str, options: Mapping[str, Any] | None = None) -> Price | None:
    """The price of a configured model string (``"anthropic/claude-..."``, ``"litellm/openai/..."``).

    Local models are free; ``litellm/`` names are looked up whole (``openrouter/...`` entries), then
    without their litellm provider segment.
    """
    prefix, _, name = model.partition("/")
    if prefix == "local":
        return Price(0.0, 0.0, "local model")
    if prefix != "litellm":
        return price_for(name, options, provider=prefix)
    whole = price_for(name, options)
    if whole is not None or "/" not in name:
        return whole
    litellm_provider, _, rest = name.partition("/")
    known = litellm_provider in PROVIDER_COST_NAMES
    return price_for(rest, options, provider=litellm_provider if known else None)
