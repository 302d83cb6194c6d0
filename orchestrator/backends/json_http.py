"""One JSON-over-HTTP client for the hosted wire formats (OpenAI-compatible and Anthropic), on aiohttp.

Why not the providers' SDKs: both SDKs (openai 2.x, anthropic) go through httpx and httpcore, whose
connection pool and request models cost about 2 ms of CPU per call on the event loop (measured
against the loopback fake server at concurrency 16: SDK 2.5-3.6 ms, this client 0.4 ms;
``benchmarks/http_clients.py``). At 0.1 s latency and 16 calls in flight the loop must start a call
every 6 ms, so the SDKs' CPU stretched every wave of calls (``benchmarks/search_vs_copro.py``). The two
wire formats are plain JSON POSTs; what the SDKs add on top (retries, pagination, typed models) we
either do ourselves in the gateway or do not use.

What it keeps from the SDKs (httpx): one pooled session per backend, a total timeout per request,
CA certificates from ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` or else certifi's bundle, proxies from
``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (read once per session, because
aiohttp's own ``trust_env`` re-reads the environment on every request: 0.6 ms of CPU per call
here), and errors mapped by status code into the backend hierarchy (429 -> ``RateLimited`` with
``Retry-After``, 5xx -> ``Transient``, other 4xx -> ``Fatal``). The API key travels only in a request
header; error messages never contain it, nor the credentials of a proxy or base URL.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import ssl
from collections.abc import Mapping
from typing import Any

from orchestrator.backends.base import Fatal, LLMError, Timeout, Transient
from orchestrator.backends.http_errors import describe_error, error_for_status

__all__ = ["JsonHttpClient", "error_message", "merge_headers", "proxy_for"]

USER_AGENT = "promptfusion"
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def error_message(body: bytes, limit: int = 300) -> str:
    """The provider's error message from an error response body, bounded.

    OpenAI, Anthropic, vLLM and llama.cpp all answer ``{"error": {"message": ...}}`` (Anthropic adds a
    ``type``); some servers send ``{"error": "text"}``, ``{"detail": ...}`` or plain text.
    """
    text = body.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed.get("detail", parsed.get("message")))
        if isinstance(error, dict):
            error = error.get("message") or error.get("type") or error
        if error is not None:
            text = error if isinstance(error, str) else json.dumps(error)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def merge_headers(defaults: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """``defaults`` updated with ``overrides``, header names compared case-insensitively."""
    merged = {k: v for k, v in defaults.items() if k.lower() not in {o.lower() for o in overrides}}
    merged.update(overrides)
    return merged


class JsonHttpClient:
    """POSTs JSON to one base URL and returns the decoded JSON answer.

    The aiohttp session is created on first use inside the running event loop (aiohttp sessions
    belong to one loop); a call from another loop (a second ``asyncio.run``) gets a fresh session.

    Args:
        base_url: e.g. ``"https://api.openai.com/v1"``; paths are appended to it.
        headers: sent with every request (authentication, API version, extra headers).
        timeout: total seconds per request, connection included.
        model: the model string, named in error messages.
    """

    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float, model: str):
        self.base_url = base_url.rstrip("/")
        self._headers = merge_headers({"User-Agent": USER_AGENT, "Content-Type": "application/json"}, headers)
        self._timeout = timeout
        self._model = model
        self._secrets = [v for v in self._headers.values() if len(v) >= 8 and v != USER_AGENT]
        self._session: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._post_options: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"JsonHttpClient(base_url={self._safe(self.base_url)!r})"

    async def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST ``body`` as JSON to ``base_url + path``.

        Returns:
            The decoded JSON answer.

        Raises:
            RateLimited, Timeout, Transient, Fatal: as ``http_errors.error_for_status`` maps the
                status; ``Timeout`` when no answer came within ``timeout``; ``Transient`` when the
                connection failed or the answer is not JSON; ``Fatal`` for a request that cannot be
                sent at all (a malformed URL or header, an unsupported proxy).
        """
        import aiohttp

        try:
            session = self._open_session()
            url, data = self.base_url + path, json.dumps(body)
            async with session.post(url, data=data, **self._post_options) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise error_for_status(
                        response.status,
                        self._safe(f"{self._model}: HTTP {response.status}: {error_message(payload)}"),
                        response.headers,
                    )
        except LLMError:
            raise
        except asyncio.TimeoutError:  # aiohttp's total timeout (TimeoutError itself from 3.11)
            raise Timeout(f"{self._model}: no answer within {self._timeout:.1f} s") from None
        except aiohttp.InvalidURL as error:
            raise Fatal(self._safe(f"{self._model}: invalid URL: {describe_error(error)}")) from None
        except aiohttp.ClientError as error:
            message = self._safe(f"{self._model}: connection failed: {describe_error(error)}")
            raise Transient(message) from None
        except (ValueError, TypeError) as error:  # aiohttp refuses a header or URL before sending
            raise Fatal(self._safe(f"{self._model}: request not sent: {describe_error(error)}")) from None
        try:
            return json.loads(payload)
        except ValueError as error:
            raise Transient(f"{self._model}: malformed response: {describe_error(error)}") from error

    async def aclose(self) -> None:
        session, self._session = self._session, None
        # A session of an event loop that has ended cannot be closed from another one; drop it.
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()

    def _safe(self, text: str) -> str:
        """``text`` without URL credentials (proxy or base URL) or any configured header value."""
        text = _URL_CREDENTIALS.sub(r"\1***@", text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _open_session(self) -> Any:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop and not self._session.closed:
            return self._session
        proxy = proxy_for(self.base_url)
        if proxy and not proxy.lower().startswith(("http://", "https://")):
            scheme = proxy.split("://", 1)[0]
            raise Fatal(f"{self._model}: proxy scheme {scheme!r} is not supported (use an http:// proxy)")
        # The gateway's limiter bounds concurrency; the pool only has to keep connections for reuse.
        connector = aiohttp.TCPConnector(limit=0, ssl=_ssl_context() if self._is_https else True)
        self._session = aiohttp.ClientSession(
            headers=self._headers,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            connector=connector,
        )
        self._post_options = {"proxy": proxy} if proxy else {}
        self._loop = loop
        return self._session

    @property
    def _is_https(self) -> bool:
        return self.base_url.lower().startswith("https://")


def proxy_for(url: str) -> str | None:
    """The proxy that ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` name for ``url``, unless
    ``NO_PROXY`` exempts its host (the same rules as ``urllib`` and httpx)."""
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """CA certificates as httpx picks them: ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi's bundle
    (else the system's). Built once: loading a bundle costs ~25 ms."""
    cert_file, cert_dir = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cert_file and os.path.isfile(cert_file):
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir and os.path.isdir(cert_dir):
        return ssl.create_default_context(capath=cert_dir)
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())
