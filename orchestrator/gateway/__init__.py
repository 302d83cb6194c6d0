"""The LLM gateway: cache, budget, rate limits, timeouts, retries and the usage ledger around a backend.

Typical use (the orchestrator builds one gateway per role from the campaign config)::

    cache = ResponseCache(run_dir / "llm_cache.sqlite")
    ledger, budget = Ledger(sink=run_store.record_call), Budget(max_calls=5000, max_usd=20)
    scorer = build_gateway(settings, role="scorer", cache=cache, ledger=ledger, budget=budget)
    answer = await scorer.chat([{"role": "user", "content": "2+2?"}])
"""

from orchestrator.gateway.budget import Budget, Reservation
from orchestrator.gateway.cache import CacheStats, ResponseCache
from orchestrator.gateway.factory import build_gateway, resolve_api_key
from orchestrator.gateway.gateway import Gateway
from orchestrator.gateway.ledger import CallRecord, Ledger, Usage
from orchestrator.gateway.ratelimit import RateLimiter, TokenBucket
from orchestrator.gateway.request_key import request_key
from orchestrator.gateway.retry import RetryPolicy
from orchestrator.gateway.settings import GatewaySettings

__all__ = [
    "Budget",
    "CacheStats",
    "CallRecord",
    "Gateway",
    "GatewaySettings",
    "Ledger",
    "RateLimiter",
    "Reservation",
    "ResponseCache",
    "RetryPolicy",
    "TokenBucket",
    "Usage",
    "build_gateway",
    "request_key",
    "resolve_api_key",
]
