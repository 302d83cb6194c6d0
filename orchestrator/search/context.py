"""What the search nodes need, injected through LangGraph's runtime context (no globals).

The fields both stages use live in ``orchestrator.graph_state.GraphContext``; the search adds its plan.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from orchestrator.graph_state import GraphContext, PromptScorer
from orchestrator.search.plan import SearchPlan, plan_for, split_sizes

__all__ = ["PromptScorer", "SearchContext", "derive_seed"]


@dataclass
class SearchContext(GraphContext):
    """The graph's context with the search's allocation plan (see ``GraphContext`` for the fields)."""

    def plan(self) -> SearchPlan:
        """The allocation plan with this run's real split sizes."""
        sizes = split_sizes(self.scorer.split, self.source_tasks, self.target_task)
        return plan_for(self.campaign, sizes)


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from the run seed and a position (stage, iteration, index): stable across runs."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
