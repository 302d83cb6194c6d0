"""What the fake server answers: scripted replies and injected faults.

A test pushes ``Reply`` and ``Fault`` items onto the server's ``Script``; each incoming request takes
the next item (FIFO). When the queue is empty the ``responder`` (a function of the request) answers.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["rate_limit", "status", "slow", "drop", "malformed", "empty"]


@dataclass(frozen=True)
class Reply:
    """A successful answer.

    ``top_logprobs`` lists the alternatives offered for the FIRST generated token (used to test label
    scoring); later tokens get a single alternative. Token counts default to a length-based estimate.
    """

    text: str
    top_logprobs: Sequence[tuple[str, float]] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Fault:
    """A failure to inject; build with the class methods."""

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0

    @classmethod
    def rate_limit(cls, retry_after: str | None = "1") -> Fault:
        """HTTP 429; ``retry_after`` is the raw header value (seconds or an HTTP date), None to omit."""
        return cls("rate_limit", status=429, retry_after=retry_after)

    @classmethod
    def http_status(cls, status: int) -> Fault:
        """An error status with a provider-shaped JSON error body (500, 503, 401, 400 ...)."""
        return cls("status", status=status)

    @classmethod
    def slow(cls, delay: float) -> Fault:
        """A normal answer, but only after ``delay`` seconds (to trip client timeouts)."""
        return cls("slow", delay=delay)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without sending a response."""
        return cls("drop")

    @classmethod
    def malformed(cls) -> Fault:
        """HTTP 200 with ``Content-Type: application/json`` and a truncated body."""
        return cls("malformed")

    @classmethod
    def empty(cls) -> Fault:
        """HTTP 200 with a well-formed body whose generated content is empty."""
        return cls("empty")


Responder = Callable[[dict[str, Any]], Reply]


def echo_responder(body: dict[str, Any]) -> Reply:
    """Default answer: ``echo: <last message content>``, deterministic so tests can predict it."""
    messages = body.get("messages") or [{}]
    content = messages[-1].get("content", "")
    if isinstance(content, list):  # Anthropic content blocks
        content = " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return Reply(text=f"echo: {content}")


class Script:
    """A thread-safe FIFO of planned answers in front of a default responder."""

    def __init__(self, responder: Responder = echo_responder):
        self._queue: deque[Reply | Fault] = deque()
        self._lock = threading.Lock()
        self.responder = responder

    def push(self, *items: Reply | Fault) -> None:
        """Queue answers for the next requests, in order."""
        with self._lock:
            self._queue.extend(items)

    def next_for(self, body: dict[str, Any]) -> Reply | Fault:
        """The planned answer for this request (the queue first, then the responder)."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.responder(body)

    def reset(self, responder: Responder = echo_responder) -> None:
        with self._lock:
            self._queue.clear()
            self.responder = responder

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)
