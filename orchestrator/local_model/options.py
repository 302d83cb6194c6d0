"""Settings of the local backend, read from ``BackendSettings.options``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["LocalModelOptions"]


@dataclass(frozen=True)
class LocalModelOptions:
    """How the local model runs.

    Attributes:
        device: ``cpu``, ``cuda``, ``cuda:1``...; None picks ``cuda`` when available.
        dtype: ``float32``, ``bfloat16`` or ``float16``; None is float32 on CPU, bfloat16 on GPU.
        cache_dir: the cache root for converted models; None is ``$PROMPTFUSION_CACHE`` or
            ``~/.cache/promptfusion``.
        threads: torch intra-op threads; None keeps torch's default (the physical core count).
        batch_window_ms: how long the worker waits for more requests before running a batch.
        max_batch: the most requests in one micro-batch.
        max_batch_tokens: padded tokens per label-scoring forward pass.
        max_generate_tokens: padded prompt-plus-completion tokens per generation batch.
        scoring_precision: ``auto``, ``float32`` or ``bfloat16``: the precision of label-scoring
            forward passes. ``auto`` uses bfloat16 autocast for a float32 model on a CPU with native
            bf16 (AVX512-BF16/AMX: about 2.5x faster, label probabilities within a few hundredths)
            and the model's own precision otherwise. Generation always uses the model's precision.
    """

    device: str | None = None
    dtype: str | None = None
    cache_dir: str | None = None
    threads: int | None = None
    batch_window_ms: float = 5.0
    max_batch: int = 64
    max_batch_tokens: int = 4096
    max_generate_tokens: int = 16384
    scoring_precision: str = "auto"

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.batch_window_ms < 0:
            raise ValueError(f"batch_window_ms must be >= 0, got {self.batch_window_ms}")
        if self.scoring_precision not in ("auto", "float32", "bfloat16"):
            raise ValueError(
                f"scoring_precision must be auto, float32 or bfloat16, got {self.scoring_precision!r}"
            )
        for name in ("max_batch", "max_batch_tokens", "max_generate_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> LocalModelOptions:
        """Build from ``BackendSettings.options``.

        Raises:
            ValueError: an unknown key (the message lists the known ones) or an invalid value.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown local backend option(s) {unknown}; known: {sorted(known)}")
        values = dict(options)
        if values.get("cache_dir") is not None:
            values["cache_dir"] = str(values["cache_dir"])
        return cls(**values)
