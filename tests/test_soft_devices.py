"""Device plans, model loading and memory-aware batch sizing."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from soft_prompts.devices import (  # noqa: E402
    DevicePlan,
    activation_bytes_per_example,
    available_memory_bytes,
    load_base_model,
    plan_devices,
    prepare_base_model,
    suggest_batch_size,
)
from soft_prompts.tiny import build_tiny_pair  # noqa: E402


def test_plan_devices():
    plan = plan_devices("cpu")
    assert plan == DevicePlan("cpu", torch.float32)
    automatic = plan_devices()
    if torch.cuda.is_available():
        assert automatic.is_cuda and automatic.base_dtype in (torch.bfloat16, torch.float16)
    else:
        assert automatic == plan
        with pytest.raises(ValueError, match="CUDA requested but torch sees no GPU"):
            plan_devices("cuda")
    with pytest.raises(ValueError, match="prefer must be"):
        plan_devices("tpu")
    assert automatic.prompt_dtype == torch.float32


def test_prepare_and_load_base_model(tmp_path):
    model, tokenizer = build_tiny_pair()
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, loaded_tokenizer = load_base_model(tmp_path, DevicePlan("cpu", torch.bfloat16))
    assert loaded.dtype == torch.bfloat16 and not loaded.training
    assert not any(parameter.requires_grad for parameter in loaded.parameters())
    assert loaded_tokenizer("the movie")["input_ids"] == tokenizer("the movie")["input_ids"]
    prepared = prepare_base_model(model, plan_devices("cpu"))
    assert prepared.dtype == torch.float32 and not any(p.requires_grad for p in prepared.parameters())
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_base_model(tmp_path / "missing")


def test_batch_size_respects_memory():
    config = type(
        "Config",
        (),
        {"hidden_size": 576, "num_attention_heads": 9, "num_hidden_layers": 30, "intermediate_size": 1536},
    )()
    plan = DevicePlan("cpu", torch.float32)
    per_example = activation_bytes_per_example(config, 64, 20, torch.float32)
    assert per_example > 0
    assert activation_bytes_per_example(config, 64, 20, torch.bfloat16) == pytest.approx(
        per_example / 2, rel=0.01
    )
    checkpointed = activation_bytes_per_example(config, 64, 20, torch.float32, gradient_checkpointing=True)
    assert checkpointed < per_example / 5
    assert suggest_batch_size(config, 64, 20, plan, requested=8, free_bytes=10**12) == 8
    assert (
        suggest_batch_size(config, 64, 20, plan, requested=8, free_bytes=per_example * 6, memory_fraction=0.5)
        == 3
    )
    assert suggest_batch_size(config, 64, 20, plan, requested=8, free_bytes=1) == 1
    more = suggest_batch_size(
        config, 64, 20, plan, 64, free_bytes=per_example * 6, gradient_checkpointing=True
    )
    assert more > 3
    assert available_memory_bytes(plan) > 0
    with pytest.raises(ValueError, match="requested must be >= 1"):
        suggest_batch_size(config, 64, 20, plan, requested=0)
