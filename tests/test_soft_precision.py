"""``soft.precision``: one campaign field, passed to training, saved with the prompt, and ``bf16`` refused
before any work where the device has no native bf16."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

import soft_prompts.devices as devices  # noqa: E402
from orchestrator.cli.app import main  # noqa: E402
from orchestrator.config import Campaign, SoftConfig  # noqa: E402
from orchestrator.errors import ConfigError  # noqa: E402
from orchestrator.loading import parse_campaign  # noqa: E402
from orchestrator.soft.standalone import train_on_task  # noqa: E402
from orchestrator.soft.training import train_config  # noqa: E402
from orchestrator.soft.twin import check_soft_precision, soft_stage_for  # noqa: E402
from soft_prompts.config import PromptInit  # noqa: E402
from tests import simulated_llm  # noqa: E402


@pytest.fixture
def no_native_bf16(monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)


def test_one_field_with_one_default_reaches_the_train_config():
    assert SoftConfig().precision == "auto"
    assert train_config(SoftConfig(), seed=0).precision == "auto"
    assert train_config(SoftConfig(precision="fp32"), seed=0).precision == "fp32"
    with pytest.raises(ConfigError, match="soft.precision"):
        parse_campaign("soft:\n  precision: fp16\n", source="c.yaml", env={})


def test_bf16_without_native_support_is_refused_naming_the_field(no_native_bf16):
    with pytest.raises(ValueError, match=r"soft\.precision: 'bf16' needs a CPU with AVX512-BF16 or AMX"):
        check_soft_precision("bf16", "cpu")
    check_soft_precision("auto", "cpu")
    check_soft_precision("fp32", "cpu")
    # auto falls back to the exact path; an explicit bf16 request reaching the library is refused there too.
    assert devices.autocast_dtype_for("auto", "cpu", torch.float32) is None
    with pytest.raises(devices.PrecisionUnsupported):
        devices.autocast_dtype_for("bf16", "cpu", torch.float32)


def test_bf16_with_native_support_autocasts(monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: True)
    check_soft_precision("bf16", "cpu")
    assert devices.autocast_dtype_for("bf16", "cpu", torch.float32) is torch.bfloat16
    assert devices.autocast_dtype_for("auto", "cpu", torch.float32) is torch.bfloat16
    assert devices.autocast_dtype_for("fp32", "cpu", torch.float32) is None


def test_a_campaign_asking_bf16_fails_when_its_stage_is_built(no_native_bf16):
    campaign = Campaign.model_validate(
        {
            "models": {"scorer": {"model": "local/smollm2-135m-instruct", "options": {"device": "cpu"}}},
            "soft": {"enabled": True, "precision": "bf16"},
        }
    )
    with pytest.raises(ValueError, match="soft.precision"):
        soft_stage_for(campaign, {})
    fallback = campaign.model_copy(update={"soft": campaign.soft.model_copy(update={"precision": "auto"})})
    stage = soft_stage_for(fallback, {})
    # auto builds the stage on the scorer's device, loads nothing yet, and trains on the exact fp32 path.
    assert stage.model.name == "smollm2-135m-instruct" and stage.model.options.device == "cpu"
    assert stage.model._loaded is None
    assert train_config(fallback.soft, seed=0).precision == "auto"
    assert devices.autocast_dtype_for("auto", "cpu", torch.float32) is None


@pytest.fixture
def tiny_dir(tmp_path):
    from soft_prompts.tiny import build_tiny_pair

    model, tokenizer = build_tiny_pair(("Claim of claims_a item holds gold yes no Answer : [ ]",))
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    return tmp_path / "tiny"


def test_the_prompt_is_saved_with_the_precision_it_was_trained_in(tmp_path, tiny_dir):
    task = simulated_llm.write_tasks(tmp_path / "tasks", names=("claims_a",), n=40)["claims_a"]
    settings = SoftConfig(
        n_virtual_tokens=2, steps=2, batch_size=4, train_examples=8, eval_every=0, precision="fp32"
    )
    run = train_on_task(
        str(task), str(tiny_dir), PromptInit(kind="random"), settings, 0, tmp_path / "out", tmp_path / "vec"
    )
    saved = json.loads((tmp_path / "out" / "claims_a" / "soft_prompt.json").read_text())
    assert json.dumps(saved).count('"precision": "fp32"') == 1
    assert run.record.prompt_dir == str(tmp_path / "out" / "claims_a")
    assert run.held_out is not None and run.held_out.test_size == len(run.held_out.row.predictions)


def test_soft_train_precision_bf16_fails_before_loading_anything(tmp_path, capsys, no_native_bf16):
    bf16 = ["--precision", "bf16"]
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["soft", "train", "--task", "navigate", "--init", "random", "--model", str(tmp_path / "x")] + bf16
        )
    assert exit_info.value.code == 1
    assert "soft.precision: 'bf16' needs a CPU with AVX512-BF16 or AMX" in capsys.readouterr().err
