"""What the configured scorer can give, known without calling it: label probabilities or not."""

from __future__ import annotations

from orchestrator.config import Campaign

__all__ = ["label_probabilities", "scoring_mode"]


def scoring_mode(campaign: Campaign) -> str:
    """The campaign's scoring mode: ``auto`` unless a ``scoring`` section sets ``mode``.

    The ``scoring`` section comes with the runtime half of issue 12; until it exists every campaign
    is ``auto``.
    """
    return str(getattr(getattr(campaign, "scoring", None), "mode", "auto"))


def label_probabilities(campaign: Campaign) -> tuple[bool, str]:
    """Whether the scorer can give label probabilities, as far as is known at load, and why not.

    ``openai/`` servers are assumed to (whether one really returns log-probabilities is found at the
    first call); ``anthropic/`` never does; ``litellm/`` asks litellm about the provider.
    """
    model = campaign.models.scorer.model
    prefix, _, name = model.partition("/")
    if scoring_mode(campaign) == "generate":
        return False, "scoring.mode is 'generate' (answers are generated, not scored by probability)"
    if prefix == "anthropic":
        return False, f"the scorer {model} gives none (the Anthropic API has no log-probabilities)"
    if prefix == "litellm":
        from orchestrator.backends.litellm_backend import import_litellm, litellm_supports

        if not litellm_supports(import_litellm(), name, "logprobs"):
            return False, f"the scorer {model} gives none (litellm lists no logprobs for its provider)"
    return True, ""
