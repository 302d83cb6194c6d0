"""Pre-flight estimate of a campaign's LLM calls, tokens and cost (``promptfusion run --dry-run``).

An upper bound for the search as configured: every round proposes its full quota and every candidate
survives the filter; patience and target scores can only make the real run cheaper. Cache hits (a
resumed or repeated run) are not subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluators.label_calibration import CONTENT_FREE_INPUTS
from orchestrator.config import Campaign

__all__ = ["Estimate", "estimate_campaign"]

# Rough sizes in tokens; the meta-prompt grows with the history shown.
_EXAMPLE_TOKENS = 120
_META_BASE_TOKENS = 350
_META_PER_HISTORY = 40
_JUDGE_TOKENS = 500


@dataclass(frozen=True)
class Estimate:
    """Calls and tokens (prompt, completion) per role, and cost where prices are known."""

    calls: dict[str, int]
    tokens: dict[str, tuple[int, int]]
    usd: float | None
    notes: list[str]

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_tokens(self) -> int:
        return sum(p + c for p, c in self.tokens.values())


def estimate_campaign(campaign: Campaign) -> Estimate:
    """Estimate the campaign's cost before running it.

    Returns:
        Calls and tokens per role (reference, scorer, judge) and USD where every model has a price.
    """
    search, tasks = campaign.search, campaign.tasks
    n_source = len(tasks.source)
    minibatch = min(search.minibatch_size, tasks.dev_size)
    baselines = len(search.baseline_prompts)
    proposals = (search.stage1_iterations + search.stage2_iterations) * search.candidates_per_step
    scored_examples = (
        baselines * n_source * minibatch
        + search.stage1_iterations * search.candidates_per_step * n_source * minibatch
        + (search.promote_top_k + baselines) * minibatch
        + search.stage2_iterations * search.candidates_per_step * minibatch
        + search.finalists * tasks.dev_size
        + 3 * tasks.test_size
    )
    if campaign.scoring.calibration == "content_free":
        # Contextual calibration scores the content-free inputs once per prompt evaluation.
        evaluations = (
            (baselines + search.stage1_iterations * search.candidates_per_step) * n_source
            + search.promote_top_k
            + baselines
            + search.stage2_iterations * search.candidates_per_step
            + search.finalists
            + 3
        )
        scored_examples += len(CONTENT_FREE_INPUTS) * evaluations
    meta_tokens = _META_BASE_TOKENS + _META_PER_HISTORY * search.history_top_k
    example_tokens = _EXAMPLE_TOKENS + search.max_prompt_chars // 8
    calls = {"reference": proposals, "scorer": scored_examples}
    tokens = {
        "reference": (proposals * meta_tokens, proposals * campaign.models.reference.max_tokens),
        "scorer": (scored_examples * example_tokens, scored_examples * campaign.models.scorer.max_tokens),
    }
    notes = []
    judged = campaign.objective.judge_dimensions
    if judged and campaign.models.judge is not None:
        candidates = baselines + proposals + search.promote_top_k + search.finalists + 3
        calls["judge"] = candidates * len(judged) * max(1, n_source)
        tokens["judge"] = (calls["judge"] * _JUDGE_TOKENS, calls["judge"] * campaign.models.judge.max_tokens)
        notes.append("judge calls assume one verdict per candidate and task (output judges cost more)")
    usd = _price(campaign, tokens)
    if usd is None:
        notes.append("cost unknown: no price for at least one hosted model (set options.price_usd_per_mtok)")
    return Estimate(calls=calls, tokens=tokens, usd=usd, notes=notes)


def _price(campaign: Campaign, tokens: dict[str, tuple[int, int]]) -> float | None:
    from orchestrator.backends.pricing import price_for

    total = 0.0
    for role, (prompt, completion) in tokens.items():
        model = getattr(campaign.models, role)
        if model.model.startswith("local/"):
            continue
        price = price_for(model.model.split("/", 1)[1].split("/")[-1], model.options)
        if price is None:
            return None
        total += price.cost(prompt, completion)
    return total
