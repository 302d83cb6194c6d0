"""Keeping secrets out of reports.

Saved configs name environment variables instead of holding keys, so a report should never meet a
secret. Two guards make sure of it anyway: ``redact_config`` blanks any field whose name looks secret
(except ``*_env`` names) and credentials inside URLs, and ``scrub_secrets`` removes, from the final
text, the value of every environment variable whose name looks secret (an API key that reached a
prompt or an option by accident included).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_config", "scrub_secrets", "secret_values"]

REDACTED = "[redacted]"
_SECRET_WORDS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "authorization", "bearer", "credentials"}
)
# Values long enough to be keys; shorter ones ("1", "true") would scrub ordinary text.
_MIN_SECRET_LENGTH = 8


def _secret_name(name: str) -> bool:
    """``OPENAI_API_KEY``, ``api_key``, ``HF_TOKEN``, ``x-api-key``: yes. ``max_tokens``: no."""
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", name.lower()))


def _secret_field(name: str) -> bool:
    return _secret_name(name) and not name.lower().endswith("_env")


def _clean_url(value: str) -> str:
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if _secret_field(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_config(value: Any) -> Any:
    """A copy of a saved config with secret-looking fields and URL credentials replaced.

    Args:
        value: the config (nested dicts, lists and scalars, as loaded from JSON).

    Returns:
        The cleaned copy; fields named like ``api_key`` or ``token`` become ``"[redacted]"``
        (``api_key_env`` and other ``*_env`` names stay: they hold a variable's name, not its value).
    """
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            secret = _secret_field(str(key)) and item not in (None, "", {}, [])
            out[key] = REDACTED if secret and not isinstance(item, Mapping) else redact_config(item)
        return out
    if isinstance(value, list):
        return [redact_config(item) for item in value]
    if isinstance(value, str):
        return _clean_url(value)
    return value


def secret_values(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment's variables whose names look secret, by name, with values worth scrubbing."""
    return {
        name: value
        for name, value in environ.items()
        if _secret_name(name) and value and len(value) >= _MIN_SECRET_LENGTH
    }


def scrub_secrets(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with every secret environment value (raw, HTML-escaped or JSON-escaped) replaced.

    Args:
        text: a rendered report.
        environ: the environment to take secret values from (e.g. ``os.environ``).

    Returns:
        The text with each such value replaced by ``[redacted:NAME]``.
    """
    for name, value in sorted(secret_values(environ).items(), key=lambda kv: -len(kv[1])):
        forms = {value, html.escape(value, quote=True), json.dumps(value)[1:-1]}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, f"[redacted:{name}]")
    return text
