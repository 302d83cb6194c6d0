"""A model's settings live in one place: the gateway and the backends are handed the validated
``ModelConfig`` and its typed options, never a mirror with defaults of its own."""

from __future__ import annotations

import warnings

import pytest

from orchestrator.backends.registry import provider_options
from orchestrator.config import ModelConfig
from orchestrator.gateway import Gateway, RetryPolicy
from orchestrator.gateway.factory import backend_settings
from orchestrator.loading import parse_campaign
from orchestrator.local_model.options import LocalModelOptions


class _NoBackend:
    model = "openai/m"
    supports_logprobs = False
    supports_label_scoring = False


@pytest.mark.parametrize(
    ("model", "timeout", "concurrency"), [("openai/m", 60.0, 8), ("local/smollm2-135m-instruct", 1800.0, 64)]
)
def test_the_gateway_takes_its_limits_from_the_model_config(model, timeout, concurrency):
    config = ModelConfig(model=model)
    gateway = Gateway(_NoBackend(), config)
    assert gateway.retry_policy.max_retries == config.max_retries == RetryPolicy().max_retries
    assert gateway.limiter.concurrency == config.effective_concurrency == concurrency
    assert gateway._attempts.safety_timeout == pytest.approx(
        timeout * 1.1
    )  # the safety net above the SDK's own
    assert backend_settings(config).timeout == config.effective_timeout == timeout


def test_explicit_settings_reach_the_gateway_and_backend():
    config = ModelConfig(model="openai/m", max_retries=2, timeout=7.0, concurrency=3)
    gateway = Gateway(_NoBackend(), config)
    assert (gateway.retry_policy.max_retries, gateway.limiter.concurrency) == (2, 3)
    assert backend_settings(config).timeout == 7.0


def test_loading_keeps_the_typed_options_that_every_reader_uses():
    text = (
        "models:\n  scorer:\n    model: local/smollm2-135m-instruct\n    options: {device: cpu, max_batch: 7}"
    )
    scorer = parse_campaign(text, source="c.yaml", env={}).models.scorer
    typed = scorer.typed_options
    assert isinstance(typed, LocalModelOptions) and (typed.device, typed.max_batch) == ("cpu", 7)
    assert provider_options(scorer) is typed
    assert backend_settings(scorer).options is typed


def test_hosted_options_are_typed_before_they_reach_the_backend():
    config = ModelConfig(model="openai/m", options={"price_usd_per_mtok": [1, 2]})
    assert config.typed_options is None
    assert backend_settings(config).options.price_usd_per_mtok == (1.0, 2.0)
    kept = config.typed_options  # validated once, then kept
    assert kept is not None and provider_options(config) is kept


def test_a_copy_with_another_provider_or_options_types_them_afresh():
    config = ModelConfig(model="openai/m", options={"max_tokens_param": "max_completion_tokens"})
    provider_options(config)
    assert provider_options(config.model_copy(update={"temperature": 0.5})) is config.typed_options
    other = config.model_copy(update={"model": "anthropic/m", "options": {}})
    assert type(provider_options(other)).__name__ == "AnthropicOptions"


def test_a_validated_config_equals_its_unvalidated_copy():
    config = ModelConfig(model="openai/m")
    provider_options(config)
    assert config == ModelConfig(model="openai/m")


def test_the_old_precision_spelling_is_read_with_a_warning():
    with pytest.warns(FutureWarning, match="'bfloat16' is the old spelling, read as 'bf16'"):
        options = LocalModelOptions(scoring_precision="bfloat16")
    assert options.scoring_precision == "bf16"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LocalModelOptions(scoring_precision="fp32").scoring_precision == "fp32"
    with pytest.raises(ValueError, match="scoring_precision"):
        LocalModelOptions(scoring_precision="float16")


def test_run_uses_the_store_that_runs_show_and_report_read():
    env = {"PROMPTFUSION_STORE": "/tmp/elsewhere.sqlite"}
    assert parse_campaign("", source="c.yaml", env=env).run.store == "/tmp/elsewhere.sqlite"
    assert parse_campaign("", source="c.yaml", env={}).run.store == "runs/promptfusion.sqlite"
    named = parse_campaign("run: {store: mine.sqlite}\n", source="c.yaml", env=env)
    assert named.run.store == "mine.sqlite"  # a campaign's own store wins
