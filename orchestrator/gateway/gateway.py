"""The gateway: one backend wrapped in cache, budget, rate limits, timeouts, retries and the ledger.

Every LLM call of the orchestrator goes through a ``Gateway``, so every backend behaves the same:

1. cache lookup by the request's sha256 (a hit costs microseconds and no budget);
2. an identical call already in flight is awaited instead of sent twice;
3. the budget reserves the call's worst case or raises ``BudgetExceeded`` (nothing sent);
4. per attempt: a concurrency slot and requests/tokens-per-minute budget from the limiter, the
   backend call under a safety timeout, wrapped errors retried by policy (``Retry-After`` honoured);
5. the answer is cached, the budget settled with the real usage, the call recorded in the ledger.

``Gateway`` satisfies ``evaluators.protocol.ChatLLM`` (``chat``) and ``LabelScorer`` (``score_labels``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from orchestrator.backends.base import (
    Backend,
    ChatRequest,
    Completion,
    LabelScores,
    LLMError,
    Unsupported,
)
from orchestrator.config.models import ModelConfig
from orchestrator.gateway.attempts import Attempts, Tries
from orchestrator.gateway.budget import Budget, Reservation
from orchestrator.gateway.cache import ResponseCache
from orchestrator.gateway.estimate import estimate_prompt_tokens
from orchestrator.gateway.ledger import CallRecord, Ledger
from orchestrator.gateway.ratelimit import Clock, RateLimiter, Sleep
from orchestrator.gateway.request_key import key_scope, request_key
from orchestrator.gateway.retry import RetryPolicy, make_retrying

__all__ = ["LATE_ANSWER_WAIT_S", "Gateway"]

log = logging.getLogger(__name__)
# How long closing a gateway waits for answers still on their way after a stop (they are cached).
LATE_ANSWER_WAIT_S = 10.0

T = TypeVar("T", Completion, LabelScores)


class Gateway:
    """One model for one role, with the same guarantees whatever the backend.

    Args:
        backend: the provider adapter (see ``orchestrator.backends.registry.create_backend``).
        settings: the validated model config (defaults for ``chat``, limits, timeout, retries).
        role: a name for the ledger (``"reference"``, ``"scorer"``, ``"judge"``).
        cache: response cache (None: no caching). May be shared between gateways.
        ledger: usage ledger (None: a private one). Share one to total a run.
        budget: hard limits (None: unlimited). Share one to cap a run.
        limiter: concurrency + rpm/tpm limiter (None: built from ``settings``). Share one between
            gateways that call the same model with the same account.
        retry: retry policy (None: ``RetryPolicy(max_retries=settings.max_retries)``).
        clock: monotonic clock for the limiter and latencies.
        sleep: async sleep for backoff and the limiter (tests inject a fast one).
        rng: randomness for retry jitter (seed it for reproducible waits).
    """

    def __init__(
        self,
        backend: Backend,
        settings: ModelConfig,
        *,
        role: str = "default",
        cache: ResponseCache | None = None,
        ledger: Ledger | None = None,
        budget: Budget | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ):
        self.backend = backend
        self.settings = settings
        self.model = settings.model
        self.role = role
        self.cache = cache
        self.ledger = ledger if ledger is not None else Ledger()
        self.budget = budget
        self.limiter = limiter or RateLimiter(
            concurrency=settings.effective_concurrency,
            rpm=settings.rpm,
            tpm=settings.tpm,
            clock=clock,
            sleep=sleep,
        )
        self.retry_policy = retry or RetryPolicy(max_retries=settings.max_retries)
        retrying = make_retrying(self.retry_policy, sleep=sleep, rng=rng or random.Random())
        # The SDK's own timeout should fire first (clearer error); this one catches a hang anywhere.
        timeout = settings.effective_timeout
        safety_timeout = timeout + max(1.0, 0.1 * timeout)
        self._attempts = Attempts(self.model, self.limiter, retrying, safety_timeout)
        self._clock = clock
        self._key_scope = key_scope(settings)
        self._in_flight: dict[str, asyncio.Future[Any]] = {}
        self._late: set[asyncio.Future[Any]] = set()
        self._observed_tokens = 0
        self._observed_usd = 0.0

    @property
    def supports_label_scoring(self) -> bool:
        """Whether ``score_labels`` can work here; evaluators fall back to generating text when not."""
        return bool(getattr(self.backend, "supports_label_scoring", False))

    def __repr__(self) -> str:
        return f"Gateway(role={self.role!r}, model={self.model!r}, backend={self.backend!r})"

    # ---------------------------------------------------------------------------------- public
    async def complete(self, request: ChatRequest) -> Completion:
        """Answer one request (from the cache when possible).

        Raises:
            BudgetExceeded: a hard budget would be crossed; nothing was sent.
            Fatal: 400/401/403/404 (not retried).
            Transient / Timeout / RateLimited: still failing after the retries.
        """
        key, request_json = request_key(self.model, request, scope=self._key_scope)
        cache = self.cache
        if cache is None:
            return await self._call(
                "complete", key, request, lambda: self.backend.complete(request), None, None
            )
        return await self._call(
            "complete",
            key,
            request,
            lambda: self.backend.complete(request),
            cache.get_completion,
            lambda value: cache.put_completion(key, request_json, value),
        )

    async def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        sample_index: int = 0,
        **params: Any,
    ) -> Completion:
        """``evaluators.protocol.ChatLLM``: answer a list of ``{"role", "content"}`` messages.

        Args:
            messages: the conversation.
            temperature: None uses ``settings.temperature``.
            max_tokens: None uses ``settings.max_tokens``.
            sample_index: tells repeated samples apart in the cache when temperature > 0.
            params: other ``ChatRequest`` fields (``stop``, ``logprobs``, ``top_logprobs``, ``seed``).

        Returns:
            The ``Completion``.
        """
        request = ChatRequest.from_messages(
            messages,
            temperature=self.settings.temperature if temperature is None else temperature,
            max_tokens=self.settings.max_tokens if max_tokens is None else max_tokens,
            sample_index=sample_index,
            **params,
        )
        return await self.complete(request)

    async def score_labels(self, messages: Sequence[Mapping[str, str]], labels: Sequence[str]) -> LabelScores:
        """``evaluators.protocol.LabelScorer``: probabilities of each label as the answer (cached).

        Raises:
            Unsupported: the backend cannot score labels (checked before anything is sent).
            BudgetExceeded, Fatal, Transient: as for ``complete``.
        """
        if not self.backend.supports_label_scoring:
            raise Unsupported(f"{self.model} cannot score labels (no log-probabilities); use an LLM judge")
        await self.label_method()
        request = ChatRequest.from_messages(messages, temperature=0.0, max_tokens=1)
        labels = tuple(labels)
        key, request_json = request_key(
            self.model, request, kind="score_labels", labels=labels, scope=self._key_scope
        )
        cache = self.cache

        def call() -> Awaitable[LabelScores]:
            return self.backend.score_labels(request, labels)

        if cache is None:
            return await self._call("score_labels", key, request, call, None, None)
        return await self._call(
            "score_labels",
            key,
            request,
            call,
            cache.get_scores,
            lambda value: cache.put_scores(key, self.model, request_json, value),
        )

    async def label_method(self) -> str | None:
        """How the backend scores labels over the wire (``whole_label`` or ``first_token``; ``openai/``
        probes once, on first use, counted like a call and cached like one, so a resumed run does not
        send it again); None for in-process scoring (``local/``).

        Raises:
            BudgetExceeded, Transient: as for ``complete`` (the probe could not be sent or answered).
        """
        probe = getattr(self.backend, "probe_label_scoring", None)
        if probe is not None and self.backend.label_method is None:
            request = ChatRequest(messages=(("user", "label scoring"),), temperature=0.0, max_tokens=1)
            key, request_json = request_key(self.model, request, kind="label_probe")
            cache = self.cache
            found = await self._call(
                "probe",
                key,
                request,
                probe,
                cache.get_completion if cache is not None else None,
                (lambda value: cache.put_completion(key, request_json, value)) if cache is not None else None,
            )
            self.backend.label_method = found.text  # a cache hit never reached the backend
        return getattr(self.backend, "label_method", None)

    async def aclose(self) -> None:
        """Close the backend's clients (after ``drain``); the cache, ledger and budget are the caller's."""
        await self.drain()
        await self.backend.aclose()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --------------------------------------------------------------------------------- internals
    async def _call(
        self,
        kind: str,
        key: str,
        request: ChatRequest,
        call: Callable[[], Awaitable[T]],
        cache_get: Callable[[str], T | None] | None,
        cache_put: Callable[[T], None] | None,
    ) -> T:
        started_at = time.time()
        if cache_get is not None:
            hit = cache_get(key)
            if hit is not None:
                self._record(kind, key, started_at, 0.0, cached=True)
                return hit
        pending = self._in_flight.get(key)
        if pending is not None:
            try:
                value = await asyncio.shield(pending)
            except asyncio.CancelledError:
                if pending.cancelled():  # the caller that was sending it was cancelled, not us
                    return await self._call(kind, key, request, call, cache_get, cache_put)
                raise
            self._record(kind, key, started_at, 0.0, cached=True)
            return dataclasses.replace(value, cached=True)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            value, attempts, latency = await self._send(kind, key, request, call, started_at, cache_put)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # marks it retrieved: no "never retrieved" warning without followers
            raise
        finally:
            del self._in_flight[key]
        future.set_result(value)
        # Cache before the ledger: if the ledger's sink fails, the paid-for answer is still kept.
        if cache_put is not None:
            cache_put(value)
        self._record(kind, key, started_at, latency, attempts=attempts, value=value)
        return value

    async def _send(
        self,
        kind: str,
        key: str,
        request: ChatRequest,
        call: Callable[[], Awaitable[T]],
        started_at: float,
        cache_put: Callable[[T], None] | None = None,
    ) -> tuple[T, int, float]:
        """Budget, retries and attempts; returns ``(value, attempts, seconds)``.

        ``cache_put`` also keeps an answer that arrives after the caller was cancelled (see ``drain``).
        """
        prompt_estimate = estimate_prompt_tokens(request)
        estimate = prompt_estimate + request.max_tokens
        reservation: Reservation | None = None
        if self.budget is not None:
            reservation = self.budget.reserve(
                estimate, self._estimate_usd(prompt_estimate, request.max_tokens)
            )
        started = self._clock()
        keep_late = None if cache_put is None else (lambda sending: self._keep_late(sending, cache_put))
        tries = Tries(keep_late=keep_late)
        try:
            value = await self._attempts.send(call, estimate, tries)
        except asyncio.CancelledError:
            # The caller gave up (an evaluation cut short at max_errors, a stop): a request already
            # handed to the backend is paid for all the same, so it is counted and recorded.
            if tries.sent:
                self._count_abandoned(kind, key, started_at, started, reservation, prompt_estimate, tries)
            raise
        except LLMError as error:
            if reservation is not None:
                self.budget.settle(reservation, 0, 0.0)
            self._record(kind, key, started_at, self._clock() - started, attempts=tries.count, error=error)
            raise
        else:
            tokens = value.prompt_tokens + value.completion_tokens
            if reservation is not None:
                self.budget.settle(reservation, tokens, value.cost_usd)
        finally:
            if reservation is not None and reservation.open:  # cancelled or a bug: never settled
                self.budget.release(reservation)
        if value.cost_usd is not None:
            self._observed_tokens += tokens
            self._observed_usd += value.cost_usd
        return value, tries.count, self._clock() - started

    def _keep_late(self, sending: asyncio.Future, cache_put: Callable[[Any], None]) -> None:
        """Let a request whose caller stopped finish, and cache its answer: the provider bills it
        anyway, and a resumed run sends the same deterministic request again otherwise."""
        self._late.add(sending)

        def arrived(done: asyncio.Future) -> None:
            self._late.discard(done)
            if done.cancelled() or done.exception() is not None:
                return
            try:
                cache_put(done.result())
            except Exception as error:  # a callback: a storage error is logged, never raised here
                log.warning("%s: an answer that arrived after a stop was not cached: %s", self.model, error)

        sending.add_done_callback(arrived)

    async def drain(self, timeout: float = LATE_ANSWER_WAIT_S) -> None:
        """Wait (at most ``timeout`` seconds) for answers still on their way after a stop, so they are
        cached before the backend closes; cancel what has not arrived by then."""
        if not self._late:
            return
        _, pending = await asyncio.wait(set(self._late), timeout=timeout)
        for sending in pending:
            sending.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _count_abandoned(
        self,
        kind: str,
        key: str,
        started_at: float,
        started: float,
        reservation: Reservation | None,
        prompt_estimate: int,
        tries: Tries,
    ) -> None:
        """Settle and record a call that was sent but whose answer nobody waited for.

        Its real usage is unknown: the budget keeps the reservation's worst case (tokens and USD),
        the ledger records the estimated prompt tokens and an unknown cost.
        """
        if reservation is not None and reservation.open:
            self.budget.settle(reservation, reservation.tokens, reservation.usd)
        self._record(
            kind,
            key,
            started_at,
            self._clock() - started,
            attempts=tries.count,
            prompt_tokens=prompt_estimate,
            error="Abandoned: cancelled after the request was sent (answer not awaited)",
        )

    def _estimate_usd(self, prompt_tokens: int, max_tokens: int) -> float:
        if not self.budget.tracks_usd:
            return 0.0
        price = getattr(self.backend, "price", None)
        if price is not None:
            return price.cost(prompt_tokens, max_tokens)
        if self._observed_tokens:
            return (prompt_tokens + max_tokens) * self._observed_usd / self._observed_tokens
        return 0.0

    def _record(
        self,
        kind: str,
        key: str,
        started_at: float,
        latency_s: float,
        *,
        cached: bool = False,
        attempts: int = 0,
        value: Completion | LabelScores | None = None,
        error: BaseException | str | None = None,
        prompt_tokens: int | None = None,
    ) -> None:
        """One ledger row; ``prompt_tokens`` stands in when there is no answer to read them from."""
        if prompt_tokens is None:
            prompt_tokens = value.prompt_tokens if value is not None else 0
        if isinstance(error, BaseException):
            error = f"{type(error).__name__}: {error}"
        self.ledger.record(
            CallRecord(
                role=self.role,
                model=self.model,
                kind=kind,
                key=key,
                cached=cached,
                attempts=attempts,
                prompt_tokens=prompt_tokens,
                completion_tokens=value.completion_tokens if value is not None else 0,
                cost_usd=0.0 if cached else (value.cost_usd if value is not None else None),
                latency_s=latency_s,
                error=error,
                started_at=started_at,
            )
        )
