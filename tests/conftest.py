"""Shared fixtures: the loopback fake LLM server, backend cases, and gateways built against them.

Backend cases: ``BACKEND_CASES`` lists every backend the contract suite runs on; ``backend_case``
is parametrised over all of them and ``http_backend_case`` over those that speak HTTP (fault
injection and request counting only make sense there). To add a backend (e.g. ``local/``), append a
``BackendCase`` with ``http=False`` to ``BACKEND_CASES``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.base import BackendSettings
from orchestrator.backends.registry import create_backend
from orchestrator.gateway import Budget, Gateway, GatewaySettings, Ledger, ResponseCache, RetryPolicy
from tests.fakeserver import FakeServer, ServerThread

# A fake secret: tests check that it reaches the server and nothing else.
PLANTED_API_KEY = "sk-planted-SECRET-7f3a9c1e5b"
# Short backoffs keep the fault tests fast; Retry-After still sets its own (longer) waits.
FAST_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05, jitter=0.5)


@dataclass(frozen=True)
class BackendCase:
    """One backend under the contract suite.

    Attributes:
        name: the test id.
        model: the configured model string (``"<provider>/<model>"``).
        http: whether it talks to the fake server (faults, request counts, key checks apply).
        supports_logprobs: whether ``Completion.logprobs`` is expected when asked for.
        api_base: the server URL for a fake server (in-process backends return None).
        options: backend options passed through ``GatewaySettings.options``.
    """

    name: str
    model: str
    http: bool
    supports_logprobs: bool
    api_base: Callable[[FakeServer], str | None] = lambda server: None
    options: dict[str, Any] = field(default_factory=dict)


BACKEND_CASES: list[BackendCase] = [
    BackendCase(
        "openai",
        "openai/gpt-4o-mini",
        http=True,
        supports_logprobs=True,
        api_base=lambda server: server.openai_base,
    ),
    BackendCase(
        "anthropic",
        "anthropic/claude-haiku-4-5-20251001",
        http=True,
        supports_logprobs=False,
        api_base=lambda server: server.anthropic_base,
    ),
    # litellm routes "openai/..." through its OpenAI-compatible provider to our api_base.
    BackendCase(
        "litellm",
        "litellm/openai/gpt-4o-mini",
        http=True,
        supports_logprobs=True,
        api_base=lambda server: server.openai_base,
    ),
]


def case_named(name: str) -> BackendCase:
    """The ``BackendCase`` called ``name`` (for tests of gateway behaviour on one backend)."""
    return next(case for case in BACKEND_CASES if case.name == name)


@pytest.fixture(scope="session")
def fake_server_session() -> FakeServer:
    with ServerThread(FakeServer()) as server:
        yield server


@pytest.fixture
def fake_server(fake_server_session: FakeServer) -> FakeServer:
    """The session's fake server, with a clean script, request log and zero latency."""
    fake_server_session.reset()
    yield fake_server_session
    fake_server_session.reset()


@pytest.fixture
def sim_server(fake_server: FakeServer) -> FakeServer:
    """The fake server answering as the simulated LLM (``tests/simulated_llm.py``)."""
    from tests import simulated_llm

    fake_server.script.reset(simulated_llm.respond)
    return fake_server


@pytest.fixture
def task_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the task files read from now on (``orchestrator.tasks.resolve.load_task``)."""
    import orchestrator.tasks.resolve as resolve

    reads: list[str] = []
    real_load_task = resolve.load_task

    def counting_load_task(path, **kwargs):
        reads.append(kwargs["name"])
        return real_load_task(path, **kwargs)

    monkeypatch.setattr(resolve, "load_task", counting_load_task)
    return reads


@pytest.fixture(params=BACKEND_CASES, ids=lambda case: case.name)
def backend_case(request: pytest.FixtureRequest) -> BackendCase:
    return request.param


@pytest.fixture(params=[case for case in BACKEND_CASES if case.http], ids=lambda case: case.name)
def http_backend_case(request: pytest.FixtureRequest) -> BackendCase:
    return request.param


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it (no real waiting)."""

    def __init__(self, start: float = 100.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)  # still yield, so other tasks interleave as with a real sleep


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


MakeGateway = Callable[..., Gateway]


@pytest.fixture
async def make_gateway(fake_server: FakeServer, tmp_path: Path) -> AsyncIterator[MakeGateway]:
    """Build gateways for a ``BackendCase`` against the fake server; all are closed after the test.

    Call as ``make_gateway(case, cache=..., ledger=..., budget=..., retry=..., clock=FakeClock,
    **gateway_settings_fields)``; a ``FakeClock`` replaces both the clock and every sleep.
    ``cache=True`` (default) opens ``tmp_path / "cache.sqlite"``; pass a ``ResponseCache`` or None.
    """
    gateways: list[Gateway] = []
    caches: list[ResponseCache] = []

    def make(
        case: BackendCase,
        *,
        cache: ResponseCache | bool | None = True,
        ledger: Ledger | None = None,
        budget: Budget | None = None,
        retry: RetryPolicy = FAST_RETRY,
        api_key: str = PLANTED_API_KEY,
        role: str = "test",
        clock: FakeClock | None = None,
        **overrides: Any,
    ) -> Gateway:
        if cache is True:
            cache = ResponseCache(tmp_path / "cache.sqlite")
            caches.append(cache)
        settings = GatewaySettings(
            model=case.model,
            api_base=case.api_base(fake_server),
            timeout=overrides.pop("timeout", 30.0),  # generous: a loaded CI machine must not flake
            max_retries=retry.max_retries,
            options=case.options,
            **overrides,
        )
        backend_settings = BackendSettings(
            api_base=settings.api_base, api_key=api_key, timeout=settings.timeout, options=case.options
        )
        backend = create_backend(case.model, backend_settings)
        gateway = Gateway(
            backend,
            settings,
            role=role,
            cache=cache or None,
            ledger=ledger,
            budget=budget,
            retry=retry,
            rng=random.Random(0),
            **({"clock": clock, "sleep": clock.sleep} if clock is not None else {}),
        )
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        await gateway.aclose()
    for cache in caches:
        cache.close()
