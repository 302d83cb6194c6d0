"""Checks on ``models.*`` and ``soft.model`` at load: the provider exists, its options are typed, no
credentials in URLs, a local model or litellm provider can be found. Nothing here calls a model."""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ValidationError

from orchestrator.backends.http_options import HostedOptions, looks_secret_name
from orchestrator.backends.registry import PROVIDERS, options_model
from orchestrator.config import Campaign, ModelConfig
from orchestrator.validation.locate import Location

__all__ = ["check_models", "configured_models"]

ROLES = ("reference", "scorer", "judge")


def configured_models(campaign: Campaign) -> Iterator[tuple[str, ModelConfig]]:
    """``(role, model config)`` of every role the campaign sets."""
    for role in ROLES:
        model = getattr(campaign.models, role)
        if model is not None:
            yield role, model


def check_models(campaign: Campaign, where: Location, env: Mapping[str, str]) -> None:
    """Refuse a model that cannot be built, before any call.

    Raises:
        ConfigError: unknown provider prefix, a bad option, credentials in ``api_base``, an
            ``extra_headers_env`` variable unset, a ``local/`` model not found, a litellm provider
            litellm does not know, a ``soft.model`` that is not a findable local model.
    """
    for role, model in configured_models(campaign):
        loc = ("models", role)
        prefix, _, name = model.model.partition("/")
        _check_prefix(prefix, model.model, where, (*loc, "model"))
        options = _check_options(options_model(prefix), model.options, where, (*loc, "options"))
        # Kept on the config: the gateway, the backends and the soft stage read this typed object.
        model.keep_typed_options(options)
        if model.api_base is not None:
            _check_url(model.api_base, where, (*loc, "api_base"))
        headers_env = options.extra_headers_env if isinstance(options, HostedOptions) else {}
        for header, variable in headers_env.items():
            if not env.get(variable):
                raise where.error(
                    (*loc, "options", "extra_headers_env", header),
                    f"environment variable {variable} is not set",
                )
        if prefix == "local":
            _check_local(name, where, (*loc, "model"))
        elif prefix == "litellm":
            _check_litellm(name, where, (*loc, "model"))
    if campaign.soft.enabled and campaign.soft.model:
        prefix, _, name = campaign.soft.model.partition("/")
        if prefix != "local" or not name:
            raise where.error(
                ("soft", "model"),
                f"{campaign.soft.model!r} is not a local model: the soft stage tunes an in-process "
                "model, write local/<name, .gguf file or directory>",
            )
        _check_local(name, where, ("soft", "model"))


def _check_prefix(prefix: str, model: str, where: Location, loc: Sequence[Any]) -> None:
    if prefix in PROVIDERS:
        return
    close = difflib.get_close_matches(prefix, list(PROVIDERS), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(PROVIDERS))}"
    raise where.error(loc, f"unknown provider {prefix!r} in {model!r} ({hint})")


def _check_options(
    model: type[BaseModel], options: Mapping[str, Any], where: Location, loc: Sequence[Any]
) -> BaseModel:
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        error = exc.errors()[0]
        path = (*loc, *error["loc"])
        if error["type"] == "extra_forbidden":
            key = str(error["loc"][-1])
            known = sorted(model.model_fields)
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known options: {', '.join(known)}"
            raise where.error(path, f"unknown option ({hint})") from None
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        if error["type"] != "value_error" and not isinstance(value, dict | list) and value is not None:
            message += f" (got {value!r})"
        raise where.error(path, message) from None


def _check_url(url: str, where: Location, loc: Sequence[Any]) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise where.error(loc, "not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise where.error(loc, "must be an http:// or https:// URL with a host")
    how = "put the key in an environment variable named by api_key_env (and headers in extra_headers_env)"
    if parts.username or parts.password:
        raise where.error(loc, f"credentials in the URL (user:password@) are refused: {how}")
    if any(looks_secret_name(key) for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        raise where.error(loc, f"a secret-looking query parameter in the URL is refused: {how}")


def _check_local(name: str, where: Location, loc: Sequence[Any]) -> None:
    from orchestrator.local_model.source import EMBEDDED_MODELS, embedded_model_installed, resolve_source

    try:
        source = resolve_source(name)
        if source.kind == "embedded":
            embedded_model_installed(source.location)
    except FileNotFoundError as exc:
        raise where.error(loc, str(exc)) from None
    if source.kind == "hub" and "/" not in name and not _in_hub_cache(name):
        close = difflib.get_close_matches(name.lower(), list(EMBEDDED_MODELS), n=1, cutoff=0.5)
        hint = f"did you mean 'local/{close[0]}'? " if close else ""
        raise where.error(
            loc,
            f"no local model {name!r}: {hint}use an embedded name ({', '.join(EMBEDDED_MODELS)}), "
            "a .gguf file, a model directory or a Hugging Face id 'org/name'",
        )


def _in_hub_cache(repo_id: str) -> bool:
    if importlib.util.find_spec("huggingface_hub") is None:
        return False
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def _check_litellm(name: str, where: Location, loc: Sequence[Any]) -> None:
    # Importing litellm takes seconds: done only when a campaign names a litellm/ model.
    from orchestrator.backends.litellm_backend import import_litellm, litellm_provider

    try:
        litellm_provider(import_litellm(), name)
    except ValueError as exc:
        raise where.error(loc, str(exc)) from None
