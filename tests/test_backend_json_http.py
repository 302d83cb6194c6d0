"""The hosted backends' HTTP client, against the real loopback fake server."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.backends.anthropic_backend import AnthropicBackend
from orchestrator.backends.base import BackendSettings, ChatRequest, Fatal, RateLimited, Transient
from orchestrator.backends.json_http import JsonHttpClient, error_message, merge_headers, proxy_for
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


def _no_proxies(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


async def test_a_failing_proxy_is_named_without_its_password(monkeypatch):
    _no_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://alice:s3cret-proxy-pw@127.0.0.1:9")
    backend = OpenAIBackend("m", BackendSettings(api_base="http://127.0.0.1:8/v1", api_key=KEY))
    try:
        with pytest.raises(Transient) as caught:
            await backend.complete(_request())
    finally:
        await backend.aclose()
    assert "s3cret-proxy-pw" not in str(caught.value) and KEY not in str(caught.value)


async def test_a_socks_proxy_is_refused_clearly(monkeypatch):
    _no_proxies(monkeypatch)
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    client = JsonHttpClient("http://127.0.0.1:8/v1", {}, timeout=5, model="openai/m")
    with pytest.raises(Fatal, match="proxy scheme 'socks5'"):
        await client.post("/chat/completions", {})
    await client.aclose()


async def test_a_key_that_cannot_be_a_header_is_fatal_and_not_echoed(fake_server: FakeServer):
    bad_key = "sk-from-a-file-with-newline\n"
    backend = OpenAIBackend("m", BackendSettings(api_base=fake_server.openai_base, api_key=bad_key))
    try:
        with pytest.raises(Fatal) as caught:
            await backend.complete(_request())
    finally:
        await backend.aclose()
    assert "sk-from-a-file" not in str(caught.value)
    assert fake_server.count() == 0


async def test_extra_headers_replace_defaults_whatever_their_case(fake_server: FakeServer):
    settings = BackendSettings(
        api_base=fake_server.anthropic_base,
        api_key=KEY,
        options={"extra_headers": {"Anthropic-Version": "2024-01-01", "X-Team": "eval"}},
    )
    backend = AnthropicBackend("claude-x", settings)
    try:
        await backend.complete(_request())
    finally:
        await backend.aclose()
    sent = [(k.lower(), v) for k, v in fake_server.requests[-1].headers.items()]
    assert [v for k, v in sent if k == "anthropic-version"] == ["2024-01-01"]
    assert ("x-team", "eval") in sent


def test_closing_after_the_loop_that_opened_the_session_has_ended_is_quiet():
    with ServerThread(FakeServer()) as server:
        backend = OpenAIBackend("m", BackendSettings(api_base=server.openai_base))
        asyncio.run(backend.complete(_request()))
        asyncio.run(backend.aclose())  # another loop: the dead loop's session is dropped, not closed
        assert "api_base" not in repr(backend) and "127.0.0.1" in repr(backend)


def test_merge_headers_lets_an_override_replace_a_default_of_any_case():
    merged = merge_headers({"anthropic-version": "a", "x-api-key": "k"}, {"Anthropic-Version": "b"})
    assert merged == {"x-api-key": "k", "Anthropic-Version": "b"}
