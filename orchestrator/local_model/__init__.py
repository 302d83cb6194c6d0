"""In-process causal language models: sources, one-time GGUF conversion, loading, batched work.

Nothing here imports torch or transformers at import time.

Public API:
    ensure_embedded_model(cache_dir=None) -> Path
    load_causal_lm(source, *, device=None, dtype=None, cache_dir=None) -> (model, tokenizer)
    LocalEngine, LocalModelOptions, MicroBatcher, score_items, generate_batch
"""

from orchestrator.local_model.batcher import MicroBatcher
from orchestrator.local_model.convert import ensure_embedded_model, ensure_gguf_converted
from orchestrator.local_model.engine import GenerateJob, LabelLogLikelihoods, LocalEngine, ScoreJob
from orchestrator.local_model.generation import GeneratedText, GenerationParams, TokenChoice, generate_batch
from orchestrator.local_model.loading import load_causal_lm
from orchestrator.local_model.options import LocalModelOptions
from orchestrator.local_model.scoring import ScoringItem, score_items
from orchestrator.local_model.source import (
    EMBEDDED_MODELS,
    embedded_gguf_path,
    resolve_cache_root,
    resolve_source,
)

__all__ = [
    "EMBEDDED_MODELS",
    "GenerateJob",
    "GeneratedText",
    "GenerationParams",
    "LabelLogLikelihoods",
    "LocalEngine",
    "LocalModelOptions",
    "MicroBatcher",
    "ScoreJob",
    "ScoringItem",
    "TokenChoice",
    "embedded_gguf_path",
    "ensure_embedded_model",
    "ensure_gguf_converted",
    "generate_batch",
    "load_causal_lm",
    "resolve_cache_root",
    "resolve_source",
    "score_items",
]
