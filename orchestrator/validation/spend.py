"""``budget.max_usd`` is only a limit when every model has a price: checked at load, not discovered
after the money is spent."""

from __future__ import annotations

from orchestrator.backends.pricing import Price
from orchestrator.backends.pricing import model_price as _model_price
from orchestrator.backends.registry import provider_options
from orchestrator.config import Campaign, ModelConfig
from orchestrator.errors import ConfigError
from orchestrator.validation.locate import Location
from orchestrator.validation.models import configured_models

__all__ = ["check_budget_override", "check_spend", "unpriced_models"]


def model_price(model: ModelConfig) -> Price | None:
    """The price the backend will charge calls at (local models are free), or None when unknown."""
    price = _model_price(model.model, provider_options(model).model_dump())
    prefix, _, name = model.model.partition("/")
    if price is None and prefix == "litellm":
        # litellm routes names the cost map's JSON does not spell out (its import costs seconds).
        from orchestrator.backends.litellm_backend import import_litellm, litellm_price

        return litellm_price(import_litellm(), name)
    return price


def unpriced_models(campaign: Campaign) -> list[tuple[str, str]]:
    """``(role, model)`` of every configured model without a known price."""
    return [(role, model.model) for role, model in configured_models(campaign) if model_price(model) is None]


def check_spend(campaign: Campaign, where: Location) -> None:
    """Refuse ``budget.max_usd`` with an unpriced model unless ``budget.allow_unpriced`` is set.

    Raises:
        ConfigError: naming the model and the option that sets its price.
    """
    if campaign.budget.max_usd is None or campaign.budget.allow_unpriced:
        return
    for role, model in unpriced_models(campaign):
        raise where.error(("models", role, "model"), _unpriced(role, model))


def check_budget_override(campaign: Campaign, flag: str) -> None:
    """``check_spend`` for a limit given on the command line after loading.

    Raises:
        ConfigError: ``--max-usd: openai/x has no known price ...``.
    """
    if campaign.budget.max_usd is None or campaign.budget.allow_unpriced:
        return
    for role, model in unpriced_models(campaign):
        raise ConfigError(f"{flag}: {_unpriced(role, model)}")


def _unpriced(role: str, model: str) -> str:
    return (
        f"{model} has no known price, so budget.max_usd cannot limit its spend: set "
        f"models.{role}.options.price_usd_per_mtok: [input, output] (USD per million tokens), "
        "or pass --allow-unpriced (budget.allow_unpriced: true) to count its calls as $0"
    )
