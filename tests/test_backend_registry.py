"""Backends are picked by model string through a registry of lazy import paths."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from orchestrator.backends.anthropic_backend import AnthropicBackend
from orchestrator.backends.base import Backend, BackendSettings
from orchestrator.backends.openai_backend import OpenAIBackend
from orchestrator.backends.registry import PROVIDERS, UnknownBackendError, create_backend, split_model_string


@dataclass
class RecordingBackend:
    """A registrable class that remembers how it was built."""

    name: str
    settings: BackendSettings


async def test_prefix_picks_the_provider_and_is_stripped_from_the_name():
    backend = create_backend("openai/gpt-4o-mini", BackendSettings(api_base="http://127.0.0.1:9/v1"))
    assert isinstance(backend, OpenAIBackend) and isinstance(backend, Backend)
    assert backend.model == "openai/gpt-4o-mini"
    await backend.aclose()
    claude = create_backend("anthropic/claude-3-5-haiku-latest", BackendSettings())
    assert isinstance(claude, AnthropicBackend) and claude.model == "anthropic/claude-3-5-haiku-latest"
    await claude.aclose()


def test_only_the_first_slash_splits():
    assert split_model_string("litellm/hosted_vllm/Qwen/Qwen2.5-7B") == (
        "litellm",
        "hosted_vllm/Qwen/Qwen2.5-7B",
    )


@pytest.mark.parametrize("model", ["gpt-4o-mini", "openai/", "mystery/model", "OpenAI/gpt-4o"])
def test_bad_model_strings_list_the_known_prefixes(model):
    with pytest.raises(UnknownBackendError) as caught:
        create_backend(model, BackendSettings())
    message = str(caught.value)
    assert repr(model) in message
    assert "anthropic, litellm, local, openai" in message


def test_custom_providers_receive_name_and_settings():
    providers = {**PROVIDERS, "rec": f"{__name__}:RecordingBackend"}
    settings = BackendSettings(api_base="http://x", options={"k": 1})
    backend = create_backend("rec/some/model", settings, providers=providers)
    assert backend == RecordingBackend("some/model", settings)


def test_importing_the_registry_and_gateway_loads_no_sdk():
    heavy = "('litellm', 'openai', 'anthropic', 'torch', 'transformers')"
    code = (
        "import sys, orchestrator.backends.registry, orchestrator.gateway;"
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_settings_repr_hides_the_key():
    assert "sk-hidden" not in repr(BackendSettings(api_key="sk-hidden"))
