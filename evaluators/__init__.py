"""The objective prompt evaluator.

Task metrics, calibration, instruction following, LLM judges, and Pareto / weighted / lexicographic
acceptance.

Pure functions and small classes; an LLM is passed in, typed by the protocols in
``evaluators.protocol``. This package imports only ``prompts`` (for judge rubrics), numpy and pydantic.
"""

from evaluators.acceptance import AcceptancePolicy, Decision, accept, best_index, lexicographic_compare
from evaluators.bootstrap import (
    ConfidenceInterval,
    PairedComparison,
    bootstrap_ci,
    bootstrap_metric_ci,
    paired_bootstrap,
)
from evaluators.calibration import (
    ReliabilityBin,
    brier_score,
    ece_from_confidences,
    expected_calibration_error,
    reliability_bins,
)
from evaluators.confidence import (
    VerbalizedAnswer,
    confidence_to_probs,
    parse_verbalized_answer,
    parse_verbalized_confidence,
)
from evaluators.degenerate import DominantAnswer, dominant_answer
from evaluators.delimiting import DATA_TAGS, neutralize
from evaluators.dimensions import STANDARD_DIMENSIONS, Dimension, judge_dimension
from evaluators.discrimination import auprc, auprc_negative, auroc, binary_auroc, binary_average_precision
from evaluators.errors import EvaluationError, FailureCounter, TooManyErrors
from evaluators.evaluate import EvalConfig, evaluate_prompt
from evaluators.extractors import FirstLineExtractor, FirstOf, LabelSetExtractor, RegexExtractor
from evaluators.instruction_following import (
    ContractCheck,
    OutputContract,
    check_output,
    instruction_following_rate,
)
from evaluators.judge_reply import JudgeReply, MalformedJudgeReply, parse_judge_reply
from evaluators.judges import DEFAULT_JUDGES, JudgeSpec, JudgeVerdict, LLMJudge
from evaluators.label_calibration import (
    CALIBRATION_METHODS,
    CONTENT_FREE_INPUTS,
    batch_calibrate,
    content_free_calibrate,
)
from evaluators.metrics import accuracy, balanced_accuracy, exact_match, macro_f1, normalize_answer
from evaluators.objective import dominates, non_dominated_sort, pareto_front, weighted_objective
from evaluators.protocol import ChatLLM, LabelScorer
from evaluators.report import EvaluationReport
from evaluators.scoring import ExampleResult
from evaluators.significance import Verdict, compare_predictions
from evaluators.task import INSTRUCTION_TURNS, Example, TaskSpec, default_messages, user_turn_messages
from evaluators.trivial_baselines import TrivialBaseline, trivial_baselines
from evaluators.usage import UsageRecord, UsageTotals

__all__ = [
    "trivial_baselines",
    "dominant_answer",
    "content_free_calibrate",
    "compare_predictions",
    "batch_calibrate",
    "balanced_accuracy",
    "Verdict",
    "TrivialBaseline",
    "DominantAnswer",
    "CALIBRATION_METHODS",
    "CONTENT_FREE_INPUTS",
    "DATA_TAGS",
    "DEFAULT_JUDGES",
    "STANDARD_DIMENSIONS",
    "AcceptancePolicy",
    "ChatLLM",
    "ConfidenceInterval",
    "ContractCheck",
    "Decision",
    "Dimension",
    "EvalConfig",
    "EvaluationError",
    "EvaluationReport",
    "Example",
    "ExampleResult",
    "FailureCounter",
    "FirstLineExtractor",
    "FirstOf",
    "JudgeReply",
    "JudgeSpec",
    "JudgeVerdict",
    "LLMJudge",
    "LabelScorer",
    "LabelSetExtractor",
    "MalformedJudgeReply",
    "OutputContract",
    "PairedComparison",
    "RegexExtractor",
    "ReliabilityBin",
    "TaskSpec",
    "TooManyErrors",
    "UsageRecord",
    "UsageTotals",
    "VerbalizedAnswer",
    "accept",
    "accuracy",
    "auprc",
    "auprc_negative",
    "auroc",
    "best_index",
    "binary_auroc",
    "binary_average_precision",
    "bootstrap_ci",
    "bootstrap_metric_ci",
    "brier_score",
    "check_output",
    "confidence_to_probs",
    "default_messages",
    "INSTRUCTION_TURNS",
    "user_turn_messages",
    "dominates",
    "ece_from_confidences",
    "evaluate_prompt",
    "exact_match",
    "expected_calibration_error",
    "instruction_following_rate",
    "judge_dimension",
    "lexicographic_compare",
    "macro_f1",
    "neutralize",
    "non_dominated_sort",
    "normalize_answer",
    "paired_bootstrap",
    "parse_judge_reply",
    "parse_verbalized_answer",
    "parse_verbalized_confidence",
    "pareto_front",
    "reliability_bins",
    "weighted_objective",
]
