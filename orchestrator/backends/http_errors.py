"""Turning an HTTP failure (status + headers) into the backend error hierarchy, for every provider.

The HTTP client of the hosted backends (``json_http``) and the litellm backend hand the status code
and response headers here, so that 429 / 5xx / 4xx mean the same thing whichever provider answered.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping

from orchestrator.backends.base import Fatal, LLMError, RateLimited, Timeout, Transient

__all__ = [
    "describe_error",
    "error_for_status",
    "parse_retry_after",
    "retry_after_from_headers",
]

# 408 (request timeout) and 409 (conflict, e.g. a lock) are worth another try; the rest of 4xx is not.
_RETRYABLE_4XX = {408, 409}


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header.

    Args:
        value: the header value: delay seconds (``"2"``, ``"1.5"``) or an HTTP date
            (``"Wed, 21 Oct 2015 07:28:00 GMT"``).
        now: wall clock (seconds since the epoch) used to turn a date into a delay.

    Returns:
        The delay in seconds (never negative), or None when the header is absent or unreadable.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if headers is None:
        return None
    # httpx.Headers is case-insensitive already; a plain dict from elsewhere may not be.
    return headers.get(name) or headers.get(name.lower()) or headers.get(name.title())


def retry_after_from_headers(headers: Mapping[str, str] | None) -> float | None:
    """``retry-after-ms`` (OpenAI's finer variant) when present, else ``Retry-After``."""
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    return parse_retry_after(_header(headers, "retry-after"))


def error_for_status(status: int | None, message: str, headers: Mapping[str, str] | None = None) -> LLMError:
    """The error to raise for a failed HTTP response.

    Args:
        status: the HTTP status code (None when unknown, treated as transient).
        message: a description for the user; must not contain secrets.
        headers: response headers, read for ``Retry-After`` on 429 / 503.

    Returns:
        ``RateLimited`` for 429 (with ``retry_after``), ``Timeout`` for 408, ``Transient`` for 5xx,
        409 and unknown statuses, ``Fatal(status)`` for the other 4xx.
    """
    if status == 429:
        return RateLimited(message, retry_after=retry_after_from_headers(headers))
    if status == 408:
        return Timeout(message)
    if status is not None and 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return Fatal(message, status=status)
    return Transient(message)


def describe_error(error: BaseException, limit: int = 300) -> str:
    """A one-line, bounded description of a third-party error for our error messages."""
    text = str(error)
    if isinstance(error, json.JSONDecodeError):
        text = f"invalid JSON ({error.msg} at position {error.pos})"
    return text if len(text) <= limit else text[:limit] + "..."
