"""A planted API key reaches the server, and nothing else: not the cache file, logs, ledger or errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from orchestrator.backends.base import LLMError
from orchestrator.gateway import CallRecord, Ledger, ResponseCache
from tests.conftest import PLANTED_API_KEY, BackendCase, MakeGateway
from tests.fakeserver import FakeServer, Fault

HELLO = [{"role": "user", "content": "hello"}]


async def test_planted_key_is_only_sent_to_the_server(
    http_backend_case: BackendCase,
    make_gateway: MakeGateway,
    fake_server: FakeServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)  # every logger, SDKs and litellm included
    records: list[CallRecord] = []
    cache = ResponseCache(tmp_path / "secrets.sqlite")
    gateway = make_gateway(http_backend_case, cache=cache, ledger=Ledger(sink=records.append))
    errors: list[LLMError] = []

    fake_server.script.push(Fault.rate_limit("0"), Fault.http_status(500))
    await gateway.chat(HELLO)
    await gateway.chat(HELLO)  # cache hit
    fake_server.script.push(Fault.http_status(401))
    try:
        await gateway.chat([{"role": "user", "content": "unauthorised"}])
    except LLMError as error:
        errors.append(error)
    assert errors, "the 401 should have raised"
    cache.close()

    # The key was really used (so its absence elsewhere means something).
    sent = [" ".join(r.headers.values()) for r in fake_server.requests]
    assert all(PLANTED_API_KEY in headers for headers in sent)

    files = [path for path in tmp_path.iterdir() if path.name.startswith("secrets.sqlite")]
    assert files
    for path in files:
        assert PLANTED_API_KEY.encode() not in path.read_bytes(), path
    assert PLANTED_API_KEY not in caplog.text
    assert caplog.records, "expected some log output to have been checked"
    assert records and all(PLANTED_API_KEY not in repr(r.to_dict()) for r in records)
    assert all(PLANTED_API_KEY not in f"{e!r} {e} {e.__cause__!r}" for e in errors)
    assert PLANTED_API_KEY not in repr(gateway) + repr(gateway.backend)


async def test_key_and_base_url_are_not_part_of_the_cache_key(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer, tmp_path: Path
):
    cache = ResponseCache(tmp_path / "moved.sqlite")
    await make_gateway(http_backend_case, cache=cache, api_key="sk-first-key").chat(HELLO)
    again = await make_gateway(http_backend_case, cache=cache, api_key="sk-another-key").chat(HELLO)
    assert again.cached
    assert fake_server.count() == 1
    cache.close()
