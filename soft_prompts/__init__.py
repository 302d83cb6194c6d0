"""Soft-prompt stage: prompt tuning on a frozen causal LM, task prompt vectors and gated fusion.

Importing this package is cheap: torch and transformers load only when one of the names below is first used
(``from soft_prompts import train_soft_prompt``), so the CLI stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # api
    "train_soft_prompt": "soft_prompts.api",
    "train_fused_prompt": "soft_prompts.api",
    "load_soft_prompt": "soft_prompts.api",
    "export_prompt_as_peft": "soft_prompts.api",
    "SoftTrainRun": "soft_prompts.api",
    "FusionTrainRun": "soft_prompts.api",
    # configs and data
    "PromptInit": "soft_prompts.config",
    "FusionConfig": "soft_prompts.config",
    "TrainConfig": "soft_prompts.config",
    "EarlyStopping": "soft_prompts.early_stopping",
    "UntrainedPromptWarning": "soft_prompts.vectors",
    "PromptExample": "soft_prompts.data",
    "TaskData": "soft_prompts.data",
    # modules
    "SoftPromptModel": "soft_prompts.model",
    "PromptEmbedding": "soft_prompts.prompt",
    "GatedPromptFusion": "soft_prompts.fusion",
    # training and scoring
    "train_prompt": "soft_prompts.trainer",
    "TrainProgress": "soft_prompts.trainer",
    "TrainResult": "soft_prompts.trainer",
    "label_probabilities": "soft_prompts.scoring",
    "task_accuracy": "soft_prompts.scoring",
    "generate_texts": "soft_prompts.scoring",
    # vectors
    "TaskPromptVector": "soft_prompts.vectors",
    "VectorMetadata": "soft_prompts.vectors",
    "create_task_vector": "soft_prompts.vectors",
    "save_vector": "soft_prompts.vectors",
    "load_vector": "soft_prompts.vectors",
    "list_vectors": "soft_prompts.vectors",
    "combine_vectors": "soft_prompts.vectors",
    "similarity_matrix": "soft_prompts.vectors",
    "apply_vector": "soft_prompts.vectors",
    # storage, interop, devices
    "save_prompt": "soft_prompts.checkpoint",
    "load_prompt_module": "soft_prompts.checkpoint",
    "export_peft_adapter": "soft_prompts.peft_interop",
    "import_peft_adapter": "soft_prompts.peft_interop",
    "plan_devices": "soft_prompts.devices",
    "load_base_model": "soft_prompts.devices",
    "suggest_batch_size": "soft_prompts.devices",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'soft_prompts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
