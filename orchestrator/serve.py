"""An OpenAI-compatible HTTP endpoint in front of a backend: the embedded local model over the wire.

Tools that only speak HTTP (DSPy, the openai SDK, curl) can then use the same in-process model the
search uses, e.g. to compare optimizers on one model. Routes:

- ``POST /v1/chat/completions``: ``messages``, ``temperature``, ``max_tokens`` (or
  ``max_completion_tokens``), ``stop``, ``seed``, ``n``, ``logprobs``, ``top_logprobs``; no streaming.
  With vLLM's extension ``prompt_logprobs`` (and ``continue_final_message: true`` on messages that
  end with an assistant message) it scores that message instead of answering: the top-level
  ``prompt_logprobs`` lists, per prompt token, ``{token_id: {logprob, rank, decoded_token}}``. This
  is how clients score whole labels over the wire (``backends.whole_label``). Unlike vLLM it scores
  only the continued message's tokens (earlier positions are null), reports only the actual token
  at each position (whatever k is asked) and generates nothing (the message content is empty).
- ``GET /v1/models``: the one model served.
- ``GET /stats``: requests received, answered and failed, tokens (for counting calls in benchmarks).

Concurrent requests go straight to the backend; the local backend micro-batches them itself.
Run it with ``python -m orchestrator.serve --model local/smollm2-135m-instruct --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from orchestrator.backends.base import (
    Backend,
    ChatRequest,
    Completion,
    Fatal,
    LLMError,
    RateLimited,
    Timeout,
    Unsupported,
)
from orchestrator.config.models import LOCAL_TIMEOUT_S

__all__ = [
    "STATS_KEY",
    "RequestError",
    "ServeStats",
    "build_app",
    "parse_chat_request",
    "run_server",
    "serve",
]

MAX_TOP_LOGPROBS = 20  # the OpenAI API's own limit
MAX_CHOICES = 16
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class RequestError(ValueError):
    """A request the server refuses (HTTP 400); ``param`` names the offending field."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


@dataclass
class ServeStats:
    """Counters since the server started (``GET /stats``)."""

    requests: int = 0
    completed: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


STATS_KEY = web.AppKey("stats", ServeStats)


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only text is supported
        parts = []
        for part in content:
            text = part.get("text") if isinstance(part, dict) and part.get("type") == "text" else None
            if not isinstance(text, str):
                raise RequestError(f"{where}: only text content parts are supported", where)
            parts.append(text)
        return "".join(parts)
    raise RequestError(f"{where}: content must be a string or a list of text parts", where)


def _number(body: dict[str, Any], key: str, kind: type, default: Any, low: float, high: float) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise RequestError(f"{key}: expected {kind.__name__}, got {value!r}", key)
    if not low <= value <= high:
        raise RequestError(f"{key}: must be between {low} and {high}, got {value!r}", key)
    return kind(value)


def parse_chat_request(body: Any) -> tuple[ChatRequest, int]:
    """Read an OpenAI chat-completions body into a ``ChatRequest`` and the number of choices.

    Raises:
        RequestError: a missing or malformed field, streaming, or a value out of range.
    """
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    if body.get("stream"):
        raise RequestError("stream: streaming is not supported", "stream")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("messages: a non-empty list of messages is required", "messages")
    pairs = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise RequestError(f"{where}: expected an object", where)
        role = _ROLES.get(message.get("role"))
        if role is None:
            raise RequestError(f"{where}.role: expected one of {sorted(_ROLES)}, got {message.get('role')!r}")
        pairs.append((role, _text(message.get("content"), f"{where}.content")))
    stop = body.get("stop") or ()
    stop = (stop,) if isinstance(stop, str) else stop
    if not isinstance(stop, (list, tuple)) or not all(isinstance(s, str) for s in stop):
        raise RequestError("stop: expected a string or a list of strings", "stop")
    # Newer clients (DSPy included) send max_completion_tokens; older ones max_tokens.
    max_tokens_key = "max_tokens" if body.get("max_completion_tokens") is None else "max_completion_tokens"
    top_logprobs = _number(body, "top_logprobs", int, 0, 0, MAX_TOP_LOGPROBS)
    request = ChatRequest(
        messages=tuple(pairs),
        temperature=_number(body, "temperature", float, 1.0, 0.0, 2.0),
        max_tokens=_number(body, max_tokens_key, int, 256, 1, 32768),
        stop=tuple(stop),
        logprobs=bool(body.get("logprobs")) or top_logprobs > 0,
        top_logprobs=top_logprobs,
        seed=_number(body, "seed", int, None, -(2**63), 2**63 - 1),
    )
    return request, _number(body, "n", int, 1, 1, MAX_CHOICES)


def _logprobs_json(completion: Completion, top_k: int) -> dict[str, Any] | None:
    if completion.logprobs is None:
        return None

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}

    content = [
        {**entry(t.token, t.logprob), "top_logprobs": [entry(tok, lp) for tok, lp in t.top[:top_k]]}
        for t in completion.logprobs
    ]
    return {"content": content}


def _prompt_logprobs(body: dict[str, Any], request: ChatRequest) -> int | None:
    """The ``prompt_logprobs`` asked for (None: a normal answer), checked against what is served."""
    value = _number(body, "prompt_logprobs", int, None, 0, MAX_TOP_LOGPROBS)
    if value is None:
        return None
    if request.messages[-1][0] != "assistant" or body.get("continue_final_message") is not True:
        raise RequestError(
            "prompt_logprobs: this server scores only a continued final assistant message "
            "(messages ending with role assistant, continue_final_message: true)",
            "prompt_logprobs",
        )
    if len(request.messages) < 2:
        raise RequestError(
            "messages: a message before the continued assistant message is required", "messages"
        )
    return value


async def _score_continuation(backend: Backend, request: ChatRequest) -> tuple[int, list[Any]]:
    """Prompt token count and vLLM-style ``prompt_logprobs`` of the final (assistant) message."""
    score = getattr(backend, "score_continuation", None)
    if score is None:
        raise Unsupported(f"{backend.model}: prompt_logprobs is not supported for this model")
    head = dataclasses.replace(request, messages=request.messages[:-1])
    prompt_tokens, tokens = await score(head, request.messages[-1][1])
    entries: list[Any] = [None] * prompt_tokens
    entries += [{str(i): {"logprob": lp, "rank": None, "decoded_token": text}} for i, text, lp in tokens]
    return prompt_tokens + len(tokens), entries


def _error(status: int, message: str, kind: str, param: str | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": kind, "param": param, "code": None}}
    return web.json_response(payload, status=status)


def _llm_error_response(error: LLMError) -> web.Response:
    if isinstance(error, RateLimited):
        return _error(429, str(error), "rate_limit_exceeded")
    if isinstance(error, Timeout):
        return _error(504, str(error), "timeout")
    if isinstance(error, (Fatal, Unsupported)):
        status = getattr(error, "status", None) or 400
        return _error(status if 400 <= status < 600 else 400, str(error), "invalid_request_error")
    return _error(503, str(error), "server_error")


def build_app(backend: Backend, *, model_name: str | None = None, clock: Callable[[], float] = time.time):
    """The aiohttp application serving ``backend``.

    Args:
        backend: answers every request (it is not closed by the app).
        model_name: the name reported in answers and ``/v1/models`` (default ``backend.model``).
        clock: seconds since the epoch, for the ``created`` field.

    Returns:
        The application; ``app[STATS_KEY]`` holds the ``ServeStats``.
    """
    name = model_name or backend.model
    stats = ServeStats()

    async def chat(request: web.Request) -> web.Response:
        stats.requests += 1
        try:
            body = await request.json()
            chat_request, n = parse_chat_request(body)
            if _prompt_logprobs(body, chat_request) is not None:
                return await scored(chat_request)
        except RequestError as error:
            stats.failed += 1
            return _error(400, str(error), "invalid_request_error", error.param)
        except ValueError:  # the body is not JSON
            stats.failed += 1
            return _error(400, "the request body is not valid JSON", "invalid_request_error")
        # Choices differ by sample index and seed, so sampled choices are distinct but reproducible.
        seed = chat_request.seed
        variants = [
            dataclasses.replace(chat_request, sample_index=i, seed=None if seed is None else seed + i)
            for i in range(n)
        ]
        try:
            completions = await asyncio.gather(*(backend.complete(v) for v in variants))
        except LLMError as error:
            stats.failed += 1
            return _llm_error_response(error)
        stats.completed += 1
        prompt_tokens = completions[0].prompt_tokens
        completion_tokens = sum(c.completion_tokens for c in completions)
        stats.prompt_tokens += prompt_tokens
        stats.completion_tokens += completion_tokens
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": c.text},
                "logprobs": _logprobs_json(c, chat_request.top_logprobs) if chat_request.logprobs else None,
                "finish_reason": c.finish_reason or "stop",
            }
            for i, c in enumerate(completions)
        ]
        payload = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(clock()),
            "model": name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return web.json_response(payload)

    async def scored(chat_request: ChatRequest) -> web.Response:
        try:
            prompt_tokens, entries = await _score_continuation(backend, chat_request)
        except LLMError as error:
            stats.failed += 1
            return _llm_error_response(error)
        stats.completed += 1
        stats.prompt_tokens += prompt_tokens
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": ""},
            "logprobs": None,
            "finish_reason": "length",
        }
        payload = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(clock()),
            "model": name,
            "choices": [choice],
            "prompt_logprobs": entries,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens},
        }
        return web.json_response(payload)

    async def models(request: web.Request) -> web.Response:
        entry = {"id": name, "object": "model", "created": 0, "owned_by": "promptfusion"}
        return web.json_response({"object": "list", "data": [entry]})

    async def stats_route(request: web.Request) -> web.Response:
        return web.json_response(stats.as_dict())

    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[STATS_KEY] = stats
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/stats", stats_route)
    return app


@contextlib.asynccontextmanager
async def run_server(
    backend: Backend, *, host: str = "127.0.0.1", port: int = 0, model_name: str | None = None
):
    """Serve ``backend`` until the block exits; yields the base URL (``http://host:port``).

    Args:
        backend: the backend to serve (closed by the caller, not here).
        host: the interface; loopback by default, since there is no authentication.
        port: 0 picks a free port.
        model_name: see ``build_app``.
    """
    runner = web.AppRunner(build_app(backend, model_name=model_name), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()


async def serve(
    model: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    options: dict[str, Any] | None = None,
    timeout: float = LOCAL_TIMEOUT_S,
    on_ready: Callable[[str], None] = print,
) -> None:
    """Load ``model`` and serve it until cancelled.

    Args:
        model: a model string, e.g. ``local/smollm2-135m-instruct``.
        host, port: where to listen.
        options: backend options (e.g. ``{"device": "cpu"}`` for ``local/``).
        timeout: seconds one request may take.
        on_ready: called with ``"listening on URL"`` once the model is loaded and the port bound.

    Raises:
        Fatal: the model cannot be loaded.
    """
    from orchestrator.backends.base import BackendSettings
    from orchestrator.backends.registry import create_backend

    backend = create_backend(model, BackendSettings(timeout=timeout, options=dict(options or {})))
    try:
        load = getattr(backend, "load", None)
        if load is not None:  # load before accepting requests, so the first one is not slow
            await load()
        async with run_server(backend, host=host, port=port, model_name=model) as url:
            on_ready(f"listening on {url}")
            await asyncio.Event().wait()
    finally:
        await backend.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/smollm2-135m-instruct", help="model string to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed on start)")
    parser.add_argument("--device", help="device for local/ models (cpu, cuda)")
    parser.add_argument("--threads", type=int, help="torch threads for local/ models (default: all cores)")
    args = parser.parse_args(argv)
    options = {k: v for k, v in (("device", args.device), ("threads", args.threads)) if v is not None}
    ready = lambda line: print(line, flush=True)  # noqa: E731 - the benchmark reads this line from a pipe
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.model, host=args.host, port=args.port, options=options, on_ready=ready))


if __name__ == "__main__":
    main()
