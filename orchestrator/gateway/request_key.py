"""The content address of a request: sha256 of its canonical JSON.

The key covers everything that changes the answer: the model string, the endpoint (``api_base``: two
servers may serve different weights under one model name), every backend option that changes answers
(``scoring_precision`` and ``dtype`` of a local model, ``litellm_params``, ...), the messages,
sampling parameters, the sample index when temperature > 0, and the label set for label scoring.
It leaves out what does not: the API key (the cache holds no secrets, and another account on the same
server gets the same answers), and options that only change speed or accounting (``threads``,
``max_batch``, ``price_usd_per_mtok``...).

Which options change answers is declared once, on each provider's typed ``options`` model: every
field counts unless it is marked ``json_schema_extra={ANSWERS: False}``; a new option is therefore
in the key until someone decides it may not be.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from orchestrator.backends.base import ChatRequest

__all__ = ["ANSWERS", "KEY_VERSION", "affects_answers", "key_scope", "request_key"]

# Bump when the canonical form changes, so old entries are simply never hit again.
KEY_VERSION = 2
#: The ``json_schema_extra`` flag of an option that does not change answers (``{ANSWERS: False}``).
ANSWERS = "changes_answers"


class ModelSettings(Protocol):
    """What the key reads of a configured model (``GatewaySettings`` has it)."""

    model: str
    api_base: str | None
    options: Mapping[str, Any]


def affects_answers(field: FieldInfo) -> bool:
    """Whether an options field may change what the model answers (the default: yes)."""
    extra = field.json_schema_extra
    return not (isinstance(extra, Mapping) and extra.get(ANSWERS) is False)


def key_scope(settings: ModelSettings) -> dict[str, Any]:
    """The part of a model's settings that goes into every key of its requests (compute it once).

    Options are read through the provider's typed options model, defaults filled in, so ``{}`` and
    the explicit default give one key; options it cannot read all count (the safe side).
    """
    return {"api_base": settings.api_base, "options": _answer_options(settings.model, settings.options)}


def _answer_options(model: str, options: Mapping[str, Any]) -> dict[str, Any]:
    from orchestrator.backends.registry import options_model

    try:
        cls = options_model(model.partition("/")[0])
        values = cls.model_validate(dict(options)).model_dump(mode="json")
    except (KeyError, ImportError, ValidationError):
        return json.loads(json.dumps(dict(options), sort_keys=True, default=str))
    return {name: values[name] for name, field in cls.model_fields.items() if affects_answers(field)}


def request_key(
    model: str,
    request: ChatRequest,
    kind: str = "complete",
    labels: Sequence[str] = (),
    scope: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Canonical JSON and its sha256 for one request.

    Args:
        model: the configured model string (``"openai/gpt-4o-mini"``).
        request: the request; ``sample_index`` counts only when ``temperature > 0``.
        kind: ``"complete"`` or ``"score_labels"``.
        labels: the label set for ``score_labels`` (order matters: it is the caller's order).
        scope: ``key_scope(settings)`` of the model's gateway (endpoint and answer-changing options).

    Returns:
        ``(hex_digest, canonical_json)``.
    """
    temperature = float(request.temperature)
    canonical = {
        "v": KEY_VERSION,
        "kind": kind,
        "model": model,
        "scope": dict(scope or {}),
        "messages": request.messages,
        "temperature": temperature,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
        "logprobs": request.logprobs,
        "top_logprobs": request.top_logprobs,
        "seed": request.seed,
        "sample": request.sample_index if temperature > 0 else 0,
    }
    if kind != "complete":
        canonical["labels"] = list(labels)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), text
