"""Options shared by the hosted backends: extra headers (secrets only by environment variable) and a price.

A header whose name or value looks secret (``Authorization``, ``X-Api-Key``, ``X-Token``, a
``Bearer ...`` value, a long key-like string) must not be written in the campaign file, which is
saved with every run and printed by ``check``: ``extra_headers_env`` names the environment variable
that holds it instead, and the factory reads it when the backend is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ENV_NAME",
    "HostedOptions",
    "looks_secret_name",
    "looks_secret_value",
    "resolve_header_env",
]

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "auth",
        "bearer",
        "cookie",
        "credential",
        "credentials",
        "signature",
    }
)
_SCHEME_VALUE = re.compile(r"(?i)^\s*(bearer|basic|token|digest)\s+\S")
_KEY_PREFIXES = ("sk-", "sk_", "pk_", "rk_", "ghp_", "gho_", "github_pat_", "xox", "hf_", "akia", "eyj")
_KEY_LIKE = re.compile(r"^[A-Za-z0-9_\-.+/=]{32,}$")


def looks_secret_name(name: str) -> bool:
    """``Authorization``, ``x-api-key``, ``X-Token``, ``aws_secret_access_key``: yes.

    ``anthropic-version``, ``OpenAI-Organization``: no."""
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", name.lower()))


def looks_secret_value(value: str) -> bool:
    """A ``Bearer``/``Basic`` credential, a known key prefix (``sk-``, ``ghp_``...), a long key-like text."""
    text = value.strip()
    if _SCHEME_VALUE.match(text) or text.lower().startswith(_KEY_PREFIXES):
        return True
    return bool(_KEY_LIKE.match(text)) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


class HostedOptions(BaseModel):
    """Options every HTTP backend (``openai/``, ``anthropic/``, ``litellm/``) accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent with every request (secrets: extra_headers_env)."
    )
    extra_headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="Header name -> NAME of the environment variable holding its value (for secrets).",
    )
    price_usd_per_mtok: tuple[float, float] | None = Field(
        None,
        description="[input, output] USD per million tokens; overrides litellm's cost map.",
        json_schema_extra={"changes_answers": False},  # accounting only: not in the cache key
    )

    @field_validator("extra_headers")
    @classmethod
    def _no_literal_secrets(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if looks_secret_name(name) or looks_secret_value(value):
                # The value is never echoed: the message may be printed, logged or pasted in an issue.
                raise ValueError(
                    f"header {name!r} looks like a secret and the campaign file is saved with every run; "
                    f"put its value in an environment variable and name it in "
                    f"options.extra_headers_env: {{{name}: MY_VARIABLE}}"
                )
        return headers

    @field_validator("extra_headers_env")
    @classmethod
    def _names_not_values(cls, names: dict[str, str]) -> dict[str, str]:
        for header, variable in names.items():
            if not ENV_NAME.match(variable):
                raise ValueError(
                    f"header {header!r}: must name an environment variable (e.g. MY_TOKEN), "
                    "never hold the value"
                )
        return names

    @field_validator("price_usd_per_mtok", mode="before")
    @classmethod
    def _price_pair(cls, value: Any) -> Any:
        if value is None:
            return value
        pair = list(value) if isinstance(value, list | tuple) else None
        if (
            pair is None
            or len(pair) != 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair)
            or any(x < 0 or x != x or x == float("inf") for x in pair)
        ):
            raise ValueError(
                "must be [input, output]: two non-negative USD prices per million tokens, e.g. [0.15, 0.6]"
            )
        return value


def resolve_header_env(
    extra_headers_env: Mapping[str, str], environ: Mapping[str, str], model: str
) -> dict[str, str]:
    """The headers ``options.extra_headers_env`` names (header -> variable), values read from ``environ``.

    Raises:
        ValueError: a named variable is unset or empty (the message names it, never a value).
    """
    resolved = {}
    for header, variable in extra_headers_env.items():
        value = environ.get(variable)
        if not value:
            raise ValueError(
                f"environment variable {variable} (options.extra_headers_env of model {model}) is not set"
            )
        resolved[header] = value
    return resolved
