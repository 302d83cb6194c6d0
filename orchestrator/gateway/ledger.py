"""The usage and cost ledger: every call, aggregated per (role, model), with a sink for the run store.

One ``Ledger`` is typically shared by the gateways of a run (reference, scorer, judge), so the
totals cover the whole campaign while ``usage(role=...)`` answers per role. Records never contain
an API key, a base URL or message text: only the request's sha256 and counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

__all__ = ["CallRecord", "Ledger", "Usage"]


@dataclass(frozen=True)
class CallRecord:
    """One gateway call (a cache hit, a success after some attempts, or a final failure).

    Attributes:
        role: which gateway made it (``"reference"``, ``"scorer"``, ``"judge"`` ...).
        model: the configured model string.
        kind: ``"complete"`` or ``"score_labels"``.
        key: sha256 of the canonical request (the cache key).
        cached: answered from the cache (or by an identical call already in flight) - no request sent.
        attempts: HTTP attempts made (0 for cache hits).
        prompt_tokens, completion_tokens: usage reported by the provider (0 when cached or failed).
        cost_usd: the call's cost; None when the price is unknown; 0 for cache hits.
        latency_s: seconds spent in the gateway, waits and retries included.
        error: ``"ErrorClass: message"`` of a failed call, else None.
        started_at: wall-clock time (``time.time()``) when the call began.
    """

    role: str
    model: str
    kind: str
    key: str
    cached: bool
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float
    error: str | None
    started_at: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Usage:
    """Aggregated usage. ``calls`` counts calls sent to a backend (failed ones included)."""

    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    latency_s: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def mean_latency_s(self) -> float:
        """Mean seconds per sent call (cache hits excluded)."""
        return self.latency_s / self.calls if self.calls else 0.0

    def add(self, record: CallRecord) -> None:
        if record.cached:
            self.cache_hits += 1
            return
        self.calls += 1
        self.attempts += record.attempts
        self.errors += record.error is not None
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.latency_s += record.latency_s
        if record.cost_usd is None:
            self.unpriced_calls += record.error is None
        else:
            self.cost_usd += record.cost_usd

    def merge(self, other: Usage) -> None:
        for counter in fields(Usage):
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))


class Ledger:
    """In-memory usage per (role, model), plus an optional sink receiving every ``CallRecord``.

    Args:
        sink: called synchronously with each record (e.g. the run store's insert). Its exceptions
            propagate to the caller of the gateway: a record that cannot be stored is not dropped
            silently. The answer itself is already cached by then, so nothing is paid twice.
    """

    def __init__(self, sink: Callable[[CallRecord], None] | None = None):
        self.sink = sink
        self._usage: dict[tuple[str, str], Usage] = {}

    def record(self, record: CallRecord) -> None:
        key = (record.role, record.model)
        usage = self._usage.get(key)
        if usage is None:
            usage = self._usage[key] = Usage()
        usage.add(record)
        if self.sink is not None:
            self.sink(record)

    def usage(self, role: str | None = None, model: str | None = None) -> Usage:
        """Usage summed over the entries matching ``role`` and ``model`` (None: any)."""
        total = Usage()
        for (entry_role, entry_model), usage in self._usage.items():
            if (role is None or role == entry_role) and (model is None or model == entry_model):
                total.merge(usage)
        return total

    def by_role_model(self) -> dict[tuple[str, str], Usage]:
        """A copy of the per-(role, model) usage."""
        result = {}
        for key, usage in self._usage.items():
            copy = Usage()
            copy.merge(usage)
            result[key] = copy
        return result
