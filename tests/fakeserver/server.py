"""A real HTTP server on 127.0.0.1 speaking the OpenAI and Anthropic wire formats.

It runs on aiohttp in its own event loop (``ServerThread`` puts it on a background thread for tests;
``python -m tests.fakeserver`` runs it as a process for benchmarks), so slow answers overlap instead
of queueing. Every request is recorded: tests assert how many were made and grep them for secrets.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakeserver import wire
from tests.fakeserver.script import Fault, Reply, Script

__all__ = ["FakeServer", "RecordedRequest", "ServerThread"]


@dataclass
class RecordedRequest:
    """One request as the server saw it. Times are ``time.time()`` seconds."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    started: float
    finished: float | None = None
    outcome: str = "pending"


class FakeServer:
    """The server state and handlers; start it with ``start()`` in a running loop or ``ServerThread``.

    Args:
        latency: seconds every answer waits before it is sent (faults included, except ``drop``).
        host: interface to bind; loopback only by default.
        port: 0 picks a free ephemeral port.
        access_log: aiohttp access logging; off by default to keep the server's CPU per request low.
    """

    def __init__(
        self, *, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0, access_log: bool = False
    ):
        self.latency = latency
        self.host = host
        self.port = port
        self.script = Script()
        # False: answer like a server without log-probabilities (Ollama's /v1, many gateways).
        self.logprobs = True
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._access_log = access_log
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------------------------------- life
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base(self) -> str:
        """``api_base`` for OpenAI-style clients (they append ``/chat/completions``)."""
        return f"{self.url}/v1"

    @property
    def anthropic_base(self) -> str:
        """``base_url`` for the Anthropic SDK (it appends ``/v1/messages``)."""
        return self.url

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_get("/_control/stats", self._stats)
        app.router.add_post("/_control/config", self._config)
        app.router.add_post("/_control/reset", self._reset)
        return app

    async def start(self) -> None:
        """Bind and serve in the running loop; sets ``port`` to the bound port."""
        # handler_cancellation: a client that gave up (timeout) cancels its slow handler.
        kwargs: dict[str, Any] = {"handler_cancellation": True}
        if not self._access_log:
            kwargs["access_log"] = None
        self._runner = web.AppRunner(self.build_app(), **kwargs)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, shutdown_timeout=0.2)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self) -> None:
        """Forget recorded requests and scripted answers; latency back to 0, log-probabilities on."""
        self.script.reset()
        self.requests = []
        self.latency = 0.0
        self.logprobs = True
        self.in_flight = 0
        self.max_in_flight = 0

    # -------------------------------------------------------------------------------------- queries
    def count(self, path_suffix: str = "") -> int:
        """Number of recorded requests whose path ends with ``path_suffix``."""
        return sum(1 for r in self.requests if r.path.endswith(path_suffix))

    # ------------------------------------------------------------------------------------- handlers
    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "openai")

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "anthropic")

    async def _handle(self, request: web.Request, api: str) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = RecordedRequest(request.path, dict(request.headers), body, time.time())
        self.requests.append(record)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if not isinstance(body, dict):
                record.outcome = "bad_json"
                return self._error(api, 400, "request body is not a JSON object")
            planned = self.script.next_for(body)
            record.outcome = planned.kind if isinstance(planned, Fault) else "reply"
            if isinstance(planned, Fault) and planned.kind == "drop":
                request.transport.close()
                raise asyncio.CancelledError  # aiohttp then abandons the response silently
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._answer(api, planned, body)
        finally:
            self.in_flight -= 1
            record.finished = time.time()

    async def _answer(self, api: str, planned: Reply | Fault, body: dict[str, Any]) -> web.StreamResponse:
        request_id = str(next(self._ids))
        if isinstance(planned, Fault):
            if planned.kind == "rate_limit":
                headers = {"Retry-After": planned.retry_after} if planned.retry_after is not None else {}
                return self._error(api, 429, "rate limit reached (fake)", headers)
            if planned.kind == "status":
                return self._error(api, planned.status, f"injected HTTP {planned.status} (fake)")
            if planned.kind == "malformed":
                return web.Response(
                    status=200, text='{"id": "x", "choices": [{"mess', content_type="application/json"
                )
            if planned.kind == "slow":
                await asyncio.sleep(planned.delay)
                planned = self.script.responder(body)
            elif planned.kind == "empty":
                planned = Reply(text="")
        assert isinstance(planned, Reply)
        if api == "openai":
            asked = body if self.logprobs else {**body, "logprobs": False}
            payload = wire.openai_completion(planned, asked, request_id)
        else:
            payload = wire.anthropic_message(planned, body, request_id)
        return web.Response(status=200, text=json.dumps(payload), content_type="application/json")

    @staticmethod
    def _error(api: str, status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        payload = (
            wire.openai_error(status, message) if api == "openai" else wire.anthropic_error(status, message)
        )
        return web.Response(
            status=status, text=json.dumps(payload), content_type="application/json", headers=headers
        )

    # -------------------------------------------------------------- control (for the standalone mode)
    async def _stats(self, request: web.Request) -> web.Response:
        payload = {
            "count": len(self.requests),
            "max_in_flight": self.max_in_flight,
            "started": [r.started for r in self.requests],
            "finished": [r.finished for r in self.requests],
        }
        return web.json_response(payload)

    async def _config(self, request: web.Request) -> web.Response:
        settings = await request.json()
        if "latency" in settings:
            self.latency = float(settings["latency"])
        return web.json_response({"latency": self.latency})

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})


class ServerThread:
    """Runs a ``FakeServer`` in its own event loop on a daemon thread (a context manager)."""

    def __init__(self, server: FakeServer):
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fakeserver", daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self.server.stop()
        # Handlers still sleeping (slow-answer faults) would otherwise be destroyed while pending.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
