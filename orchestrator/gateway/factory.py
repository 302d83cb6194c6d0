"""Building a ready gateway from a ``ModelConfig``: resolve the key, create the backend, wrap it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from orchestrator.backends.base import BackendSettings
from orchestrator.backends.http_options import HostedOptions, resolve_header_env
from orchestrator.backends.registry import create_backend, provider_options
from orchestrator.config.models import ModelConfig
from orchestrator.gateway.budget import Budget
from orchestrator.gateway.cache import ResponseCache
from orchestrator.gateway.gateway import Gateway
from orchestrator.gateway.ledger import Ledger
from orchestrator.gateway.ratelimit import RateLimiter
from orchestrator.gateway.retry import RetryPolicy

__all__ = ["MissingApiKeyError", "backend_settings", "build_gateway", "resolve_api_key"]


class MissingApiKeyError(ValueError):
    """The environment variable named by ``api_key_env`` is not set (a configuration error)."""


def resolve_api_key(settings: ModelConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The API key for ``settings``, read from the variable its ``api_key_env`` names.

    Args:
        settings: the model settings.
        environ: where to read (default ``os.environ``).

    Returns:
        The key, or None when ``api_key_env`` is not set (local servers).

    Raises:
        MissingApiKeyError: the named variable is unset or empty.
    """
    if not settings.api_key_env:
        return None
    environ = os.environ if environ is None else environ
    key = environ.get(settings.api_key_env)
    if not key:
        raise MissingApiKeyError(
            f"environment variable {settings.api_key_env} (api_key_env of model {settings.model}) is not set"
        )
    return key


# What the providers' own SDKs read from the environment besides the key (which we read only from
# the variable the campaign names): the base URL when none is configured, and OpenAI's organisation
# and project headers.
_PROVIDER_ENVIRONMENT = {
    "openai": (
        "OPENAI_BASE_URL",
        {"OPENAI_ORG_ID": "OpenAI-Organization", "OPENAI_PROJECT_ID": "OpenAI-Project"},
    ),
    "anthropic": ("ANTHROPIC_BASE_URL", {}),
}


def backend_settings(settings: ModelConfig, environ: Mapping[str, str] | None = None) -> BackendSettings:
    """``BackendSettings`` for ``settings``, with the key resolved from the environment.

    For ``openai/`` and ``anthropic/`` a missing ``api_base`` comes from ``OPENAI_BASE_URL`` /
    ``ANTHROPIC_BASE_URL``, and ``OPENAI_ORG_ID`` / ``OPENAI_PROJECT_ID`` become the headers the
    OpenAI SDK would send (an ``extra_headers`` entry of the same name wins), as with the SDKs.
    ``options.extra_headers_env`` is read here into ``BackendSettings.headers`` (never into options).

    Raises:
        MissingApiKeyError: ``api_key_env`` or an ``extra_headers_env`` entry names an unset variable.
    """
    env = os.environ if environ is None else environ
    options = provider_options(settings)
    headers: dict[str, str] = {}
    configured: set[str] = set()
    if isinstance(options, HostedOptions):
        configured = {name.lower() for name in options.extra_headers}
        try:
            headers = resolve_header_env(options.extra_headers_env, env, settings.model)
        except ValueError as error:
            raise MissingApiKeyError(str(error)) from None
        # The variables' names stay in the config; their values travel only in ``headers``.
        options = options.model_copy(update={"extra_headers_env": {}})
    api_base = settings.api_base
    provider = settings.model.split("/", 1)[0]
    if provider in _PROVIDER_ENVIRONMENT:
        base_variable, header_variables = _PROVIDER_ENVIRONMENT[provider]
        api_base = api_base or env.get(base_variable) or None
        ambient = {
            header: env[name]
            for name, header in header_variables.items()
            if env.get(name) and header.lower() not in configured
        }
        headers = {**ambient, **headers}
    return BackendSettings(
        api_base=api_base,
        api_key=resolve_api_key(settings, environ),
        timeout=settings.effective_timeout,
        options=options,
        headers=headers,
    )


def build_gateway(
    settings: ModelConfig,
    *,
    role: str,
    cache: ResponseCache | None = None,
    ledger: Ledger | None = None,
    budget: Budget | None = None,
    limiter: RateLimiter | None = None,
    retry: RetryPolicy | None = None,
    environ: Mapping[str, str] | None = None,
    **gateway_kwargs: Any,
) -> Gateway:
    """Create the backend named by ``settings.model`` and wrap it in a ``Gateway``.

    Args:
        settings: the model's settings.
        role: the gateway's role in the ledger.
        cache, ledger, budget, limiter, retry: shared parts (see ``Gateway``).
        environ: where API keys are read (default ``os.environ``).
        gateway_kwargs: passed on to ``Gateway`` (``clock``, ``sleep``, ``rng``).

    Returns:
        The gateway; close it with ``await gateway.aclose()`` (or ``async with``).

    Raises:
        MissingApiKeyError: ``api_key_env`` names an unset variable.
        UnknownBackendError: the model string's provider is not registered.
    """
    backend = create_backend(settings.model, backend_settings(settings, environ))
    return Gateway(
        backend,
        settings,
        role=role,
        cache=cache,
        ledger=ledger,
        budget=budget,
        limiter=limiter,
        retry=retry,
        **gateway_kwargs,
    )
