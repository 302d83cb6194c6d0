"""The name the gateway API has always used for a model's settings: the campaign's ``ModelConfig`` itself.

The gateway and the backends are handed the validated ``ModelConfig``: its defaults (retries,
timeout, concurrency) are defined once, in ``orchestrator.config.models``, never mirrored here.
"""

from __future__ import annotations

from orchestrator.config.models import ModelConfig

__all__ = ["GatewaySettings"]

GatewaySettings = ModelConfig
