"""What the scorer backend can do, found out before the search spends anything.

Label scores (probabilities of each label, hence calibration) need log-probabilities. ``local/``
models compute label likelihoods in-process; ``anthropic/`` never returns log-probabilities (known
from the prefix, so ``scoring.mode: label_scores`` is refused when the campaign loads); an
OpenAI-compatible server may or may not (Ollama's ``/v1``, llama.cpp without them, many gateways do
not), so ``decide_scoring`` asks it once with one one-token request, through the gateway and hence
its cache: a resumed run gets the same answer without paying again.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from orchestrator.backends.base import BudgetExceeded, ChatRequest, Completion, LLMError, Unsupported
from orchestrator.backends.first_token_labels import LABEL_TOP_LOGPROBS
from orchestrator.backends.registry import PROVIDERS
from orchestrator.config.scoring import ScoringConfig
from orchestrator.errors import SystematicFailure

__all__ = ["PROBE_REQUEST", "ScoringDecision", "decide_scoring", "load_time_problem", "probe_logprobs"]

PROBE_REQUEST = ChatRequest(
    messages=(("user", "Answer with one word, yes or no: is water wet?"),),
    temperature=0.0,
    max_tokens=1,
    logprobs=True,
    top_logprobs=5,
)


@dataclass(frozen=True)
class ScoringDecision:
    """How labelled tasks are scored in this run, and why (shown live, in the events and the report)."""

    mode: Literal["label_scores", "generate"]
    reason: str
    warning: str | None = None  # said live and kept with the run's notes (the report shows them)

    @property
    def description(self) -> str:
        how = "label scores (log-probabilities)" if self.mode == "label_scores" else "generated answers"
        return f"{how}: {self.reason}"

    def to_event(self) -> dict[str, Any]:
        return {**asdict(self), "description": self.description}


async def probe_logprobs(complete: Callable[[ChatRequest], Awaitable[Completion]]) -> bool:
    """Whether a backend returns log-probabilities: one one-token request asking for them.

    Raises:
        LLMError: the call itself failed (an outage or a bad key is not "no log-probabilities").
    """
    completion = await complete(PROBE_REQUEST)
    return bool(completion.logprobs)


def _no_logprobs_message(model: str, why: str) -> str:
    return f"label_scores needs log-probabilities and {model} {why}; set scoring.mode to auto or generate"


def load_time_problem(scoring: ScoringConfig, scorer_model: str) -> str | None:
    """The message when ``label_scores`` is asked of a backend that never returns log-probabilities
    (known from the model prefix alone, e.g. ``anthropic/``); None when nothing is known to be wrong."""
    if scoring.mode != "label_scores":
        return None
    prefix = scorer_model.partition("/")[0]
    target = PROVIDERS.get(prefix)
    if target is None:
        return None  # an unknown prefix is reported by the model checks
    module_name, _, class_name = target.partition(":")
    try:
        backend_class = getattr(importlib.import_module(module_name), class_name)
    except ImportError:
        return None
    # Only a class-level False is knowable here (litellm decides per provider, at construction).
    if getattr(backend_class, "supports_label_scoring", None) is False:
        return _no_logprobs_message(scorer_model, "never returns them")
    return None


async def decide_scoring(scoring: ScoringConfig, scorer: Any, *, has_labels: bool) -> ScoringDecision:
    """Choose how labelled tasks are scored, probing the scorer once when that is the only way to know.

    Args:
        scoring: the campaign's ``scoring`` section.
        scorer: the scorer gateway (``model``, ``supports_label_scoring``, ``complete``).
        has_labels: whether any task of the campaign has a closed label set.

    Returns:
        The decision (``label_scores`` or ``generate``) with its reason.

    Raises:
        Unsupported: ``label_scores`` was asked and the scorer returns no log-probabilities.
        SystematicFailure: the probe call itself failed (after the gateway's retries).
        BudgetExceeded: no budget left for the probe.
    """
    decision = await _decide(scoring, scorer, has_labels=has_labels)
    if decision.mode == "generate" and has_labels and scoring.calibration == "content_free":
        note = (
            f"scoring.calibration: content_free is not applied: it corrects label scores, and this run "
            f"generates answers ({decision.reason}); set scoring.calibration to none to silence this"
        )
        decision = dataclasses.replace(decision, warning=note)
    return decision


def _first_token_warning(model: str) -> str:
    return (
        f"{model} does not score whole labels (no prompt_logprobs), so label scores are estimated from "
        f"the first answer token's top {LABEL_TOP_LOGPROBS} alternatives: a label outside them is "
        f"bounded by the {LABEL_TOP_LOGPROBS}th alternative's probability, and labels starting alike "
        "tie; scoring.mode: generate avoids the estimate"
    )


async def _label_method(scorer: Any) -> str | None:
    """The scorer backend's way of scoring labels, when it has more than one (``openai/``): one
    probe through the gateway, so the budget counts it."""
    try:
        return await scorer.label_method()
    except BudgetExceeded:
        raise
    except LLMError as exc:
        raise SystematicFailure(
            f"the scorer failed the label-scoring probe ({type(exc).__name__}: {exc}); "
            "this is the backend or the campaign, not the prompt"
        ) from exc


async def _decide(scoring: ScoringConfig, scorer: Any, *, has_labels: bool) -> ScoringDecision:
    if not has_labels:
        return ScoringDecision("generate", "no task has a closed label set")
    if scoring.mode == "generate":
        return ScoringDecision("generate", "scoring.mode is generate")
    model = scorer.model
    if not scorer.supports_label_scoring:
        if scoring.mode == "label_scores":
            raise Unsupported("scoring.mode: " + _no_logprobs_message(model, "returns none"))
        return ScoringDecision("generate", f"{model} returns no log-probabilities")
    if model.startswith("local/"):
        return ScoringDecision("label_scores", f"{model} scores label likelihoods in-process")
    try:
        has_logprobs = await probe_logprobs(scorer.complete)
    except BudgetExceeded:
        raise
    except LLMError as exc:
        raise SystematicFailure(
            f"the scorer failed its first call, the scoring-mode probe ({type(exc).__name__}: {exc}); "
            "this is the backend or the campaign, not the prompt"
        ) from exc
    if not has_logprobs:
        if scoring.mode == "label_scores":
            raise Unsupported("scoring.mode: " + _no_logprobs_message(model, "returned none to a probe"))
        return ScoringDecision("generate", f"{model} returned no log-probabilities to a probe")
    method = await _label_method(scorer)
    if method == "whole_label":
        return ScoringDecision("label_scores", f"{model} scores whole labels (prompt log-probabilities)")
    if method == "first_token":
        return ScoringDecision(
            "label_scores", f"{model} returns first-token log-probabilities", _first_token_warning(model)
        )
    return ScoringDecision("label_scores", f"{model} returns log-probabilities")
