"""What a gateway needs to know about one configured model (a mirror of the campaign's model section)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GatewaySettings"]


@dataclass(frozen=True)
class GatewaySettings:
    """Per-model settings; the campaign config converts into this.

    Attributes:
        model: ``"<provider>/<model>"``, e.g. ``"openai/gpt-4o-mini"``.
        api_base: server URL (None: the provider's default).
        api_key_env: NAME of the environment variable holding the key (never the key itself).
        temperature: default sampling temperature for ``chat``.
        max_tokens: default completion length for ``chat``.
        concurrency: most requests in flight at once for this gateway's limiter.
        rpm: requests per minute (None: unlimited).
        tpm: tokens per minute, prompt + completion (None: unlimited).
        timeout: seconds one HTTP attempt may take.
        max_retries: retries after the first attempt for transient errors (0: try once).
        options: provider-specific backend options (see ``docs/backends.md``).
    """

    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    temperature: float = 0.0
    max_tokens: int = 256
    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 60.0
    max_retries: int = 4
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if "/" not in self.model:
            problems.append(f"model {self.model!r} must look like '<provider>/<model>'")
        if self.temperature < 0:
            problems.append(f"temperature must be >= 0, got {self.temperature}")
        if self.max_tokens < 1:
            problems.append(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.concurrency < 1:
            problems.append(f"concurrency must be >= 1, got {self.concurrency}")
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                problems.append(f"{name} must be > 0 or None (unlimited), got {value}")
        if self.timeout <= 0:
            problems.append(f"timeout must be > 0 seconds, got {self.timeout}")
        if self.max_retries < 0:
            problems.append(f"max_retries must be >= 0, got {self.max_retries}")
        if problems:
            raise ValueError("GatewaySettings: " + "; ".join(problems))
