"""The local model the soft stage tunes (the scorer's local twin), and the stage's injected dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.config import Campaign
from orchestrator.soft.data import SoftSplits, campaign_splits
from orchestrator.tasks import Task

if TYPE_CHECKING:
    from orchestrator.local_model.options import LocalModelOptions

__all__ = ["SoftModel", "SoftStage", "check_soft_precision", "local_twin", "soft_stage_for"]


def local_twin(campaign: Campaign) -> tuple[str | None, str]:
    """The local model the soft stage tunes, or None and why there is none."""
    if not campaign.soft.enabled:
        return None, "soft.enabled is false in this campaign"
    if campaign.soft.model:
        name = campaign.soft.model
    elif campaign.models.scorer.model.startswith("local/"):
        name = campaign.models.scorer.model
    else:
        return None, (
            f"the scorer {campaign.models.scorer.model} is hosted and soft.model names no local twin "
            "(set soft.model: local/<model>)"
        )
    return name.removeprefix("local/"), ""


def check_soft_precision(precision: str, device: str | None = None) -> None:
    """Fail before any work when ``soft.precision`` cannot run on the twin's device.

    ``bf16`` on a device without native bf16 is refused rather than emulated (slow) or silently run in fp32,
    so a stored prompt's ``TrainConfig`` says how it was really trained; ``auto`` is the portable choice.

    Args:
        precision: ``auto``, ``fp32`` or ``bf16``.
        device: the twin's device (``None``: where the local model loads by default).

    Raises:
        ValueError: naming ``soft.precision`` and the remedy.
    """
    if precision != "bf16":
        return
    from orchestrator.local_model.loading import resolve_device
    from soft_prompts.devices import check_precision

    try:
        check_precision(precision, resolve_device(device))
    except ValueError as exc:
        raise ValueError(f"soft.precision: {exc}") from None


class SoftModel:
    """The local twin, loaded on first use (once per process) and shared by the soft nodes.

    Args:
        name: the model (what ``load_causal_lm`` accepts).
        options: the scorer's ``local/`` options (device, dtype, cache).
        shared: ``async () -> (model, tokenizer)`` handing over a model already loaded elsewhere (the local
            scorer's, when the twin is the scorer): used instead of loading a second copy.
    """

    def __init__(
        self,
        name: str,
        options: LocalModelOptions | None = None,
        shared: Callable[[], Awaitable[tuple[Any, Any]]] | None = None,
    ):
        self.name = name
        self.options = options
        self._shared = shared
        self._loaded: tuple[Any, Any] | None = None
        self._lock = asyncio.Lock()

    def load(self) -> tuple[Any, Any]:
        """``(model, tokenizer)``, loading them on the first call (blocking; see :meth:`get`)."""
        if self._loaded is None:
            from orchestrator.local_model import load_causal_lm

            device = self.options.device if self.options else None
            cache_dir = self.options.cache_dir if self.options else None
            self._loaded = load_causal_lm(self.name, device=device, cache_dir=cache_dir)
        return self._loaded

    async def get(self) -> tuple[Any, Any]:
        """``(model, tokenizer)``, loaded in a worker thread on first use."""
        async with self._lock:
            if self._loaded is None and self._shared is not None:
                self._loaded = await self._shared()
            if self._loaded is None:
                await asyncio.to_thread(self.load)
            return self.load()


@dataclass
class SoftStage:
    """What the soft nodes get through the graph's context (``SearchContext.soft``).

    Attributes:
        model: the local twin.
        splits: task name -> the stage's splits of that task.
    """

    model: SoftModel
    splits: Mapping[str, SoftSplits]


def soft_stage_for(
    campaign: Campaign, tasks: Mapping[str, Task], scorer_backend: Any = None
) -> SoftStage | None:
    """The stage's dependencies for a campaign, or None when it has no local twin (the handoff says why).

    Args:
        campaign: the validated campaign.
        tasks: its tasks by name.
        scorer_backend: the scorer's backend; when the twin is the scorer's own local model, the stage
            uses the model that backend loaded (one copy in memory, scored and tuned alike).
    """
    name, _ = local_twin(campaign)
    if name is None:
        return None
    from orchestrator.backends.registry import provider_options

    scorer = campaign.models.scorer
    # The twin runs where the local scorer runs; a hosted scorer's options say nothing about it.
    options = provider_options(scorer) if scorer.is_local else None
    check_soft_precision(campaign.soft.precision, options.device if options else None)
    same_model = scorer.is_local and scorer.model.removeprefix("local/") == name
    shared = getattr(scorer_backend, "shared_model", None) if same_model else None
    return SoftStage(SoftModel(name, options, shared), campaign_splits(tasks, campaign))
