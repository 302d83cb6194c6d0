"""Pre-flight estimate of a campaign's LLM calls, tokens and cost (``promptfusion run --dry-run``).

The calls come from the allocation plan the run itself follows (``orchestrator.search.plan``), with
the real split sizes of the campaign's tasks: every round the iteration limits and the call budget
allow proposes its full quota, every candidate survives the filter, and screened candidates pass at
the screen's expected rate (``plan.PASS_RATE``; under a call budget the rate only moves calls
between rounds); patience, a target score, duplicate proposals and cache hits (a resumed or
repeated run) can only make the real run cheaper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evaluators.label_calibration import CONTENT_FREE_INPUTS
from orchestrator.backends.pricing import Price
from orchestrator.config import Campaign
from orchestrator.search.plan import campaign_split_sizes, plan_for
from orchestrator.tasks.task import Task

__all__ = ["Estimate", "estimate_campaign"]

# Rough sizes in tokens; the meta-prompt grows with the history shown.
_EXAMPLE_TOKENS = 120
_META_BASE_TOKENS = 350
_META_PER_HISTORY = 40
_JUDGE_TOKENS = 500


@dataclass(frozen=True)
class Estimate:
    """Calls and tokens (prompt, completion) per role, and cost where prices are known.

    ``prices``: each role's price, saying where it came from (None: unknown)."""

    calls: dict[str, int]
    tokens: dict[str, tuple[int, int]]
    usd: float | None
    notes: list[str]
    prices: dict[str, Price | None] = field(default_factory=dict)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_tokens(self) -> int:
        return sum(p + c for p, c in self.tokens.values())


def estimate_campaign(campaign: Campaign, tasks: Mapping[str, Task] | None = None) -> Estimate:
    """Estimate the campaign's cost before running it.

    Args:
        campaign: the validated campaign.
        tasks: its tasks by name, when already loaded (``load_campaign_and_tasks``); None reads them.

    Returns:
        Calls and tokens per role (reference, scorer, judge) and USD where every model has a price.
    """
    search = campaign.search
    plan = plan_for(campaign, _split_sizes(campaign, tasks))
    calls = plan.calls_by_role(campaign.budget.max_calls)
    proposals, scored_examples = calls["reference"], calls["scorer"]
    if campaign.scoring.calibration == "content_free":
        # Contextual calibration scores the content-free inputs once per prompt evaluation: one per
        # proposal and baseline on each stage-1 task, plus the finalists and the held-out contenders.
        baselines = len(search.baseline_prompts)
        evaluations = (proposals + baselines) * max(1, len(campaign.tasks.source)) + plan.finalists + 3
        extra = len(CONTENT_FREE_INPUTS) * evaluations
        scored_examples += extra
        calls["scorer"] += extra
    meta_tokens = _META_BASE_TOKENS + _META_PER_HISTORY * search.history_top_k
    example_tokens = _EXAMPLE_TOKENS + search.max_prompt_chars // 8
    tokens = {
        "reference": (proposals * meta_tokens, proposals * campaign.models.reference.max_tokens),
        "scorer": (scored_examples * example_tokens, scored_examples * campaign.models.scorer.max_tokens),
    }
    notes = []
    if calls["judge"] and campaign.models.judge is not None:
        tokens["judge"] = (calls["judge"] * _JUDGE_TOKENS, calls["judge"] * campaign.models.judge.max_tokens)
        notes.append("judge calls assume one verdict per candidate and task (output judges cost more)")
    else:
        del calls["judge"]
    max_calls = campaign.budget.max_calls
    if max_calls is not None and max_calls < plan.minimum_calls():
        notes.append(
            f"budget.max_calls={max_calls} is below the {plan.minimum_calls()} calls a run needs to reach a"
            " tested winner (baselines, promotion, confirmation, test): it will stop with its best so far"
        )
    prices = _prices(campaign, tokens)
    usd = _price(prices, tokens)
    if usd is None:
        notes.append("cost unknown: no price for at least one hosted model (set options.price_usd_per_mtok)")
    return Estimate(calls=calls, tokens=tokens, usd=usd, notes=notes, prices=prices)


def _split_sizes(campaign: Campaign, tasks: Mapping[str, Task] | None) -> dict[str, int] | None:
    """The real split sizes (tasks smaller than ``dev_size``/``test_size`` hold fewer); None when the
    task data cannot be read here (the configured sizes are used)."""
    from orchestrator.errors import DataError
    from orchestrator.tasks.resolve import load_campaign_tasks

    if tasks is None:
        try:
            tasks = load_campaign_tasks(campaign)
        except DataError:
            return None
    return campaign_split_sizes(campaign, tasks)


def _prices(campaign: Campaign, roles: Mapping[str, Any]) -> dict[str, Price | None]:
    from orchestrator.validation.spend import model_price

    return {role: model_price(getattr(campaign.models, role)) for role in roles}


def _price(prices: Mapping[str, Price | None], tokens: Mapping[str, tuple[int, int]]) -> float | None:
    total = 0.0
    for role, (prompt, completion) in tokens.items():
        price = prices[role]
        if price is None:
            return None
        total += price.cost(prompt, completion)
    return total
