"""The hosted backends' HTTP client, against the real loopback fake server."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.backends.anthropic_backend import AnthropicBackend
from orchestrator.backends.base import BackendSettings, ChatRequest, Fatal, RateLimited, Transient
from orchestrator.backends.json_http import JsonHttpClient, error_message, proxy_for
from orchestrator.backends.openai_backend import OpenAIBackend
from tests.fakeserver import FakeServer, Fault, ServerThread

KEY = "sk-test-json-http-0123456789"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": {"message": "model not found", "type": "invalid_request_error"}}', "model not found"),
        (b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', "Overloaded"),
        (b'{"error": "bad token"}', "bad token"),
        (b'{"detail": "Not Found"}', "Not Found"),
        (b"<html>\n  502 Bad Gateway\n</html>", "<html> 502 Bad Gateway </html>"),
        (b"", ""),
    ],
)
def test_error_message_reads_every_servers_shape(body, expected):
    assert error_message(body) == expected


def test_error_message_is_bounded():
    assert len(error_message(b"x" * 5000)) == 303


def _request() -> ChatRequest:
    return ChatRequest(messages=(("user", "ping"),), temperature=0.0, max_tokens=8)


async def test_status_errors_carry_the_servers_message_but_not_the_key(fake_server: FakeServer):
    fake_server.script.push(Fault.http_status(404))
    backend = OpenAIBackend("m", BackendSettings(api_base=fake_server.openai_base, api_key=KEY))
    try:
        with pytest.raises(Fatal) as caught:
            await backend.complete(_request())
    finally:
        await backend.aclose()
    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value) and KEY not in str(caught.value)
    assert fake_server.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


async def test_rate_limit_reports_retry_after(fake_server: FakeServer):
    fake_server.script.push(Fault.rate_limit(retry_after="3"))
    backend = AnthropicBackend("claude-x", BackendSettings(api_base=fake_server.anthropic_base, api_key=KEY))
    try:
        with pytest.raises(RateLimited) as caught:
            await backend.complete(_request())
    finally:
        await backend.aclose()
    assert caught.value.retry_after == 3.0
    headers = fake_server.requests[-1].headers
    assert headers["x-api-key"] == KEY and headers["anthropic-version"] == "2023-06-01"


def test_one_client_serves_successive_event_loops():
    """``optimize()`` may be called twice in one process, each time under a new ``asyncio.run``."""
    with ServerThread(FakeServer()) as server:
        backend = OpenAIBackend("m", BackendSettings(api_base=server.openai_base))
        for _ in range(2):
            completion = asyncio.run(backend.complete(_request()))
            assert completion.text
        asyncio.run(backend.aclose())
        assert server.count("/chat/completions") == 2
        assert "Authorization" not in server.requests[-1].headers  # no key configured: none sent


async def test_connection_refused_is_transient():
    client = JsonHttpClient("http://127.0.0.1:9", {}, timeout=5, model="openai/m")
    try:
        with pytest.raises(Transient, match="connection failed"):
            await client.post("/chat/completions", {"x": 1})
    finally:
        await client.aclose()


def test_proxy_comes_from_the_environment_and_no_proxy_exempts_hosts(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "internal.example,127.0.0.1")
    assert proxy_for("https://api.openai.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert proxy_for("https://api.openai.com/v1") == "http://proxy.example:3128"
    assert proxy_for("http://api.openai.com/v1") is None  # no HTTP_PROXY
    assert proxy_for("https://internal.example/v1") is None
    assert proxy_for("http://127.0.0.1:8000/v1") is None
