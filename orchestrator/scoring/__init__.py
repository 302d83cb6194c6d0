"""How the scorer LLM's answers become scores: the campaign's ``scoring`` section, and the check of
what the scorer backend can actually do, made once before the search spends anything."""

from orchestrator.config.scoring import ScoringConfig
from orchestrator.scoring.capability import ScoringDecision, decide_scoring, load_time_problem, probe_logprobs

__all__ = ["ScoringConfig", "ScoringDecision", "decide_scoring", "load_time_problem", "probe_logprobs"]
