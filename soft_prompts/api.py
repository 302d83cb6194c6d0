"""The public entry points the CLI (``promptfusion soft train``, ``promptfusion vectors ...``) wraps.

The soft stage gets everything from its caller: a model object or a Hugging Face model directory, the
tokenizer, tasks, configs and output paths. It reads no environment variables and no config files.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from soft_prompts.checkpoint import load_prompt_info, load_prompt_module, save_prompt
from soft_prompts.config import N_VIRTUAL_TOKENS, FusionConfig, PromptInit, TrainConfig
from soft_prompts.data import TaskData
from soft_prompts.devices import DevicePlan, autocast_dtype_for, load_base_model
from soft_prompts.fusion import GatedPromptFusion
from soft_prompts.init import build_initial_prompt, stored_init
from soft_prompts.model import SoftPromptModel
from soft_prompts.peft_interop import export_peft_adapter
from soft_prompts.prompt import PromptEmbedding
from soft_prompts.train_step import is_main_process
from soft_prompts.trainer import DevScorer, ProgressCallback, TrainResult, train_prompt
from soft_prompts.vectors import (
    UntrainedPromptWarning,
    create_task_vector,
    delete_vector,
    save_origin,
    save_vector,
)


@dataclass(frozen=True)
class SoftTrainRun:
    """Result of :func:`train_soft_prompt`.

    Attributes:
        model: the prompted model holding the best prompt.
        result: the training record (curves, best step, throughput).
        initial_prompt: ``(n_virtual, d)`` starting prompt (the task vector's origin).
        prompt_dir: where the prompt was saved, if ``out_dir`` was given.
        vector_name: name of the stored task prompt vector, if ``vector_store`` was given and the prompt was
            trained past its start (``result.trained_past_start``); ``None`` otherwise.
    """

    model: SoftPromptModel
    result: TrainResult
    initial_prompt: torch.Tensor
    prompt_dir: Path | None
    vector_name: str | None


@dataclass(frozen=True)
class FusionTrainRun:
    """Result of :func:`train_fused_prompt`.

    Attributes:
        model: the prompted model with the trained gate.
        result: the training record.
        gate_matrix: ``(num_tasks, pool_size)`` task gate weights after training (the heatmap).
        prompt_dir: where the fused prompt was saved, if ``out_dir`` was given.
    """

    model: SoftPromptModel
    result: TrainResult
    gate_matrix: torch.Tensor
    prompt_dir: Path | None


def _resolve_model(base_model: nn.Module | str | Path, tokenizer, plan: DevicePlan | None):
    if isinstance(base_model, (str, Path)):
        model, loaded_tokenizer = load_base_model(base_model, plan)
        return model, tokenizer if tokenizer is not None else loaded_tokenizer
    if tokenizer is None:
        raise ValueError("a tokenizer is required when base_model is a model object")
    return base_model, tokenizer


def prompted_for_training(
    base_model: nn.Module, prompt: nn.Module, config: TrainConfig, prefix_ids: Sequence[int] = ()
) -> SoftPromptModel:
    """``base_model`` with ``prompt`` on its device, set up per ``config`` (precision, checkpointing);
    ``prefix_ids`` go before the virtual tokens (``TaskData.input_prefix``)."""
    weights = base_model.get_input_embeddings().weight
    return SoftPromptModel(
        base_model,
        prompt.to(weights.device),
        gradient_checkpointing=config.gradient_checkpointing,
        autocast_dtype=autocast_dtype_for(config.precision, weights.device, weights.dtype),
        prefix_ids=tuple(prefix_ids),
    )


def _common_prefix(tasks: Sequence[TaskData]) -> tuple[int, ...]:
    prefixes = {task.input_prefix for task in tasks}
    if len(prefixes) != 1:
        raise ValueError("tasks trained together need the same input_prefix (one chat template)")
    return prefixes.pop()


def train_soft_prompt(
    base_model: nn.Module | str | Path,
    tokenizer,
    task: TaskData,
    init: PromptInit | None = None,
    n_virtual_tokens: int = N_VIRTUAL_TOKENS,
    config: TrainConfig | None = None,
    model_id: str = "unknown",
    out_dir: str | Path | None = None,
    vector_store: str | Path | None = None,
    vector_name: str | None = None,
    progress: ProgressCallback | None = None,
    dev_scorer: DevScorer | None = None,
    plan: DevicePlan | None = None,
    warn_untrained: bool = True,
) -> SoftTrainRun:
    """Initialise, tune and (optionally) save a single-task soft prompt and its task prompt vector.

    Args:
        base_model: a causal LM object (frozen here) or a Hugging Face model directory.
        tokenizer: its tokenizer (``None`` to load it from the directory).
        task: the task's train/dev examples.
        init: initialisation (random by default).
        n_virtual_tokens: prompt length.
        config: training hyper-parameters.
        model_id: the base model's id, recorded with the prompt and vector.
        out_dir: save the tuned prompt here (``soft_prompt.json`` + ``.safetensors``); the JSON records the
            model id, the full ``TrainConfig``, the ``PromptInit``, the data fingerprint and the best step.
        vector_store: store ``tuned - initial`` here as a task prompt vector (and the origin).
        vector_name: the vector's name (default: the task name).
        progress: progress callback (see :class:`soft_prompts.trainer.TrainProgress`).
        dev_scorer: override of the dev score.
        plan: device plan when loading from a directory.
        warn_untrained: issue an :class:`UntrainedPromptWarning` when no vector is stored because the prompt
            was not trained past its start; ``False`` when the caller reports it itself (from
            ``result.trained_past_start``), as the orchestrator does in its own words.

    Returns:
        A :class:`SoftTrainRun`.
    """
    model, tokenizer = _resolve_model(base_model, tokenizer, plan)
    init = init or PromptInit()
    config = config or TrainConfig()
    initial = build_initial_prompt(init, model, tokenizer, n_virtual_tokens, model_id=model_id)
    prompted = prompted_for_training(model, PromptEmbedding(initial), config, task.input_prefix)
    result = train_prompt(prompted, tokenizer, [task], config, progress=progress, dev_scorer=dev_scorer)
    tuned = prompted.prompt.static_prompt().cpu()
    metrics = {"best_dev_score": result.best_dev_score} if result.best_dev_score is not None else {}
    prompt_dir = None
    writer = is_main_process()  # data-parallel ranks hold the same prompt: one of them writes it
    if out_dir is not None and not writer:
        prompt_dir = Path(out_dir)
    if out_dir is not None and writer:
        metadata = {
            "task": task.name,
            "init": init.kind,
            "init_text": init.text,
            "init_config": dataclasses.asdict(init),
            "seed": config.seed,
            "train_config": dataclasses.asdict(config),
            "data_fingerprint": task.fingerprint(),
            "input_prefix": list(task.input_prefix),
            "best_step": result.best_step,
            "trained_past_start": result.trained_past_start,
            **metrics,
        }
        prompt_dir = save_prompt(
            prompted.prompt, out_dir, model_id=model_id, task_names=(task.name,), metadata=metadata
        )
    stored_name = None
    if not writer:
        vector_store = None
    if vector_store is not None and not result.trained_past_start:
        if warn_untrained:
            warnings.warn(
                f"soft prompt for {task.name!r} was not trained past its start (no dev score beat step 0): "
                "its task vector is zero and is not stored",
                UntrainedPromptWarning,
                stacklevel=2,
            )
        delete_vector(vector_store, vector_name or task.name)  # a stale vector of that name would mislead
    elif vector_store is not None:
        save_origin(vector_store, initial)
        vector = create_task_vector(tuned, initial, vector_name or task.name, task.name, model_id, metrics)
        save_vector(vector_store, vector, overwrite=True)
        stored_name = vector.metadata.name
    return SoftTrainRun(prompted, result, initial, prompt_dir, stored_name)


def _pool_tensor(pool: Sequence[torch.Tensor | str | Path]) -> torch.Tensor:
    if not pool:
        raise ValueError("train_fused_prompt: the pool is empty")
    members = [member if isinstance(member, torch.Tensor) else stored_init(member) for member in pool]
    return torch.stack([member.detach().float().cpu() for member in members])


def train_fused_prompt(
    base_model: nn.Module | str | Path,
    tokenizer,
    tasks: Sequence[TaskData],
    pool: Sequence[torch.Tensor | str | Path],
    config: TrainConfig | None = None,
    temperature: float = 1.0,
    instance_aware: bool = False,
    use_target_prompt: bool = True,
    freeze_pool: bool = True,
    task_embedding_dim: int = 32,
    target_init: torch.Tensor | None = None,
    initial_gate_logits: torch.Tensor | None = None,
    model_id: str = "unknown",
    out_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    dev_scorer: DevScorer | None = None,
    plan: DevicePlan | None = None,
) -> FusionTrainRun:
    """Train a gated fusion of ``pool`` over ``tasks`` (multi-task, mixed batches).

    Args:
        base_model: a causal LM object or a Hugging Face model directory.
        tokenizer: its tokenizer (``None`` to load it from the directory).
        tasks: task order defines task ids (and the rows of the gate heatmap).
        pool: ``(n_virtual, d)`` tensors, prompt directories or PEFT adapter directories.
        config: training hyper-parameters (``loss_weighting``, ``task_sampling_temperature``, ...).
        temperature: gate temperature.
        instance_aware: condition the gate on pooled input embeddings too.
        use_target_prompt: add a trainable shared prompt.
        freeze_pool: keep pool prompts fixed.
        task_embedding_dim: task embedding size.
        target_init: start value of the target prompt (zeros by default).
        initial_gate_logits: ``(len(tasks), len(pool))`` gate logits to start from (uniform gate by default;
            :func:`soft_prompts.fusion.own_prompt_gate_logits` starts each task on its own prompt).
        model_id: recorded with the saved prompt.
        out_dir: save the fused prompt here.
        progress: progress callback.
        dev_scorer: override of the dev score.
        plan: device plan when loading from a directory.

    Returns:
        A :class:`FusionTrainRun`.
    """
    model, tokenizer = _resolve_model(base_model, tokenizer, plan)
    config = config or TrainConfig()
    pool_tensor = _pool_tensor(pool)
    fusion_config = FusionConfig(
        num_tasks=len(tasks),
        pool_size=pool_tensor.shape[0],
        n_virtual_tokens=pool_tensor.shape[1],
        token_dim=pool_tensor.shape[2],
        task_embedding_dim=task_embedding_dim,
        temperature=temperature,
        instance_aware=instance_aware,
        use_target_prompt=use_target_prompt,
        freeze_pool=freeze_pool,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(config.seed)
    try:
        fusion = GatedPromptFusion(fusion_config, pool_tensor, target_init, initial_gate_logits)
    finally:
        torch.random.set_rng_state(generator_state)
    prompted = prompted_for_training(model, fusion, config, _common_prefix(tasks))
    result = train_prompt(prompted, tokenizer, tasks, config, progress=progress, dev_scorer=dev_scorer)
    prompt_dir = None
    names = tuple(task.name for task in tasks)
    if out_dir is not None and is_main_process():
        metadata = {
            "seed": config.seed,
            "best_dev_score": result.best_dev_score,
            "best_step": result.best_step,
            "train_config": dataclasses.asdict(config),
            "data_fingerprints": {task.name: task.fingerprint() for task in tasks},
            "input_prefix": list(_common_prefix(tasks)),
        }
        prompt_dir = save_prompt(fusion, out_dir, model_id=model_id, task_names=names, metadata=metadata)
    return FusionTrainRun(prompted, result, fusion.task_gate_matrix(), prompt_dir)


def load_soft_prompt(
    prompt_dir: str | Path, base_model: nn.Module, model_id: str | None = None, prefix_ids: Sequence[int] = ()
) -> SoftPromptModel:
    """Attach a saved prompt (single or fused) to a frozen model (``prefix_ids`` before its virtual tokens).

    Raises:
        ValueError: the prompt was tuned on another model id (when both are known).
    """
    info = load_prompt_info(prompt_dir)
    if model_id is not None and info.model not in (None, "unknown") and info.model != model_id:
        raise ValueError(f"{prompt_dir}: tuned on {info.model!r}, not {model_id!r}")
    device = base_model.get_input_embeddings().weight.device
    return SoftPromptModel(
        base_model, load_prompt_module(prompt_dir).to(device), prefix_ids=tuple(prefix_ids)
    )


def export_prompt_as_peft(
    prompt_dir: str | Path,
    out_dir: str | Path,
    base_model: nn.Module | None = None,
    task: str | None = None,
    base_model_name_or_path: str | None = None,
) -> Path:
    """Export a saved prompt as a PEFT prompt-tuning adapter (a fused prompt needs ``task``).

    Raises:
        ValueError: a fused prompt without ``task``, an unknown task, or an instance-aware gate.
    """
    info = load_prompt_info(prompt_dir)
    module = load_prompt_module(prompt_dir)
    if info.kind == "fusion":
        if task is None or task not in info.task_names:
            raise ValueError(f"{prompt_dir}: fused prompt; pass task= one of {list(info.task_names)}")
        prompt = module.static_prompt(info.task_names.index(task))
    else:
        prompt = module.static_prompt()
    name = base_model_name_or_path or info.model
    return export_peft_adapter(prompt, out_dir, base_model=base_model, base_model_name_or_path=name)
