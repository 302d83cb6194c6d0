"""Everything a run talks to, built from the campaign and closed together: cache, ledger, budget,
backends (one per distinct model, shared between roles) and a gateway per role."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.backends.base import Backend
from orchestrator.backends.registry import create_backend, provider_options
from orchestrator.config import Campaign, ModelConfig
from orchestrator.gateway.budget import Budget
from orchestrator.gateway.cache import ResponseCache
from orchestrator.gateway.factory import backend_settings
from orchestrator.gateway.gateway import LATE_ANSWER_WAIT_S, Gateway
from orchestrator.gateway.ledger import Ledger
from orchestrator.gateway.ratelimit import RateLimiter
from orchestrator.store import RunStore

__all__ = ["RunResources", "backend_key"]


def backend_key(model: ModelConfig) -> str:
    """What makes two roles' models one backend: the same model, server, account and options."""
    options = provider_options(model).model_dump(mode="json")
    return json.dumps([model.model, model.api_base, model.api_key_env, model.timeout, options])


def _shared_limiters(models: Mapping[str, ModelConfig]) -> dict[str, RateLimiter]:
    """One limiter per model and account: roles on the same model share its rate limits.

    The strictest configured rpm/tpm applies (they describe one account's allowance), and the
    largest concurrency (the server can take what any role was allowed).
    """
    groups: dict[str, list[ModelConfig]] = {}
    for model in models.values():
        groups.setdefault(backend_key(model), []).append(model)
    limiters = {}
    for key, members in groups.items():
        rpms = [m.rpm for m in members if m.rpm is not None]
        tpms = [m.tpm for m in members if m.tpm is not None]
        limiters[key] = RateLimiter(
            concurrency=max(m.effective_concurrency for m in members),
            rpm=min(rpms) if rpms else None,
            tpm=min(tpms) if tpms else None,
        )
    return limiters


@dataclass
class RunResources:
    """Gateways for the roles of one run, sharing one cache, ledger and budget.

    Use as ``async with RunResources.open(...) as res:``; backends and the cache close on exit.
    """

    cache: ResponseCache
    ledger: Ledger
    budget: Budget
    gateways: dict[str, Gateway]
    _backends: list[Backend] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        campaign: Campaign,
        *,
        store: RunStore | None = None,
        run_id: str | None = None,
        environ: Mapping[str, str] | None = None,
        roles: tuple[str, ...] = ("reference", "scorer", "judge"),
    ) -> RunResources:
        """Build the run's gateways. Budget use already recorded for ``run_id`` counts (resume)."""
        cache = ResponseCache(campaign.run.cache)
        sink = (lambda record: store.record_call(run_id, record)) if store and run_id else None
        ledger = Ledger(sink=sink)
        limits = campaign.budget
        budget = Budget(max_calls=limits.max_calls, max_tokens=limits.max_tokens, max_usd=limits.max_usd)
        if store and run_id:
            budget.used_calls, budget.used_tokens, budget.used_usd = store.spent(run_id)
        backends: dict[str, Backend] = {}
        gateways: dict[str, Gateway] = {}
        configured = {
            r: getattr(campaign.models, r) for r in roles if getattr(campaign.models, r) is not None
        }
        limiters = _shared_limiters(configured)
        try:
            for role, model in configured.items():
                resolved = backend_settings(model, environ)
                # One backend per distinct model: a local model is loaded once even when it plays
                # several roles, and hosted clients share their connection pool.
                key = backend_key(model)
                if key not in backends:
                    backends[key] = create_backend(model.model, resolved)
                gateways[role] = Gateway(
                    backends[key],
                    model,
                    role=role,
                    cache=cache,
                    ledger=ledger,
                    budget=budget,
                    limiter=limiters[key],
                )
        except BaseException:
            cache.close()
            raise
        return cls(
            cache=cache, ledger=ledger, budget=budget, gateways=gateways, _backends=list(backends.values())
        )

    async def __aenter__(self) -> RunResources:
        return self

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        # A stop ends the graph's job, not this block: answers still on their way are awaited. After
        # Ctrl-C (the run itself cancelled) nobody waits for them.
        interrupted = exc_type is not None and issubclass(
            exc_type, (asyncio.CancelledError, KeyboardInterrupt)
        )
        await self.aclose(wait_for_late_answers=not interrupted)

    async def aclose(self, wait_for_late_answers: bool = True) -> None:
        try:
            for gateway in self.gateways.values():  # answers still on their way are cached first
                await gateway.drain(LATE_ANSWER_WAIT_S if wait_for_late_answers else 0.0)
            for backend in self._backends:
                await backend.aclose()
        finally:
            self.cache.close()

    def __getitem__(self, role: str) -> Gateway:
        return self.gateways[role]

    def get(self, role: str) -> Gateway | None:
        return self.gateways.get(role)
