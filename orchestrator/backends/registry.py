"""Backends chosen by model string: ``"<provider>/<model>"`` -> a provider's ``Backend`` class.

Providers are registered by import path and imported only when used, so choosing ``openai/`` never
imports litellm or torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel

from orchestrator.backends.base import Backend, BackendSettings
from orchestrator.config.models import ModelConfig

__all__ = [
    "OPTION_MODELS",
    "PROVIDERS",
    "UnknownBackendError",
    "create_backend",
    "options_model",
    "provider_options",
    "split_model_string",
]

PROVIDERS: Mapping[str, str] = MappingProxyType(
    {
        "litellm": "orchestrator.backends.litellm_backend:LiteLLMBackend",
        "openai": "orchestrator.backends.openai_backend:OpenAIBackend",
        "anthropic": "orchestrator.backends.anthropic_backend:AnthropicBackend",
        "local": "orchestrator.backends.local:LocalBackend",
    }
)

# Each provider's typed ``options`` (pydantic, ``extra="forbid"``), kept beside its backend; the
# campaign loader validates a model's options with it, so a misspelt option is a load-time error.
OPTION_MODELS: Mapping[str, str] = MappingProxyType(
    {
        "litellm": "orchestrator.backends.litellm_backend:LiteLLMOptions",
        "openai": "orchestrator.backends.openai_backend:OpenAIOptions",
        "anthropic": "orchestrator.backends.anthropic_backend:AnthropicOptions",
        "local": "orchestrator.local_model.options:LocalModelOptions",
    }
)


class UnknownBackendError(ValueError):
    """The model string names no registered provider (a configuration error, not an LLM error)."""


def split_model_string(model: str, providers: Mapping[str, str] = PROVIDERS) -> tuple[str, str]:
    """Split ``"openai/gpt-4o-mini"`` into ``("openai", "gpt-4o-mini")`` (at the first ``/``).

    Raises:
        UnknownBackendError: no ``/``, an empty model name, or an unregistered provider.
    """
    known = ", ".join(sorted(providers))
    prefix, slash, name = model.partition("/")
    if not slash or not name:
        raise UnknownBackendError(
            f"model string {model!r} must look like '<provider>/<model>'; known providers: {known}"
        )
    if prefix not in providers:
        raise UnknownBackendError(
            f"unknown backend prefix {prefix!r} in model string {model!r}; known prefixes: {known}"
        )
    return prefix, name


def options_model(prefix: str) -> type[BaseModel]:
    """The pydantic model of the ``options`` a provider accepts (imports the provider's module only).

    Raises:
        KeyError: an unregistered prefix.
    """
    module_name, _, class_name = OPTION_MODELS[prefix].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def provider_options(model: ModelConfig) -> BaseModel:
    """The typed ``options`` of a configured model: validated once (at load), then kept on the config.

    Every reader (backends, pricing checks, the soft stage) reads this object, never the raw dict.

    Raises:
        KeyError: an unregistered provider prefix.
        pydantic.ValidationError: options the provider's model refuses.
    """
    typed = model.typed_options
    if typed is None:
        typed = options_model(model.model.partition("/")[0]).model_validate(dict(model.options))
        model.keep_typed_options(typed)
    return typed


def create_backend(
    model: str, settings: BackendSettings, providers: Mapping[str, str] = PROVIDERS
) -> Backend:
    """Build the backend for a model string.

    Args:
        model: ``"<provider>/<model>"``, e.g. ``"litellm/ollama_chat/llama3.1"``.
        settings: how to reach the model (``api_base``, ``api_key``, ``timeout``, ``options``).
        providers: prefix -> ``"module:Class"``; pass a custom mapping to add providers in tests.

    Returns:
        A ``Backend`` whose constructor received ``(model_without_prefix, settings)``.

    Raises:
        UnknownBackendError: the prefix is not registered (the message lists the known ones).
        ImportError: the provider's module or its SDK is not installed.
    """
    prefix, name = split_model_string(model, providers)
    module_name, _, class_name = providers[prefix].partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(name, settings)
