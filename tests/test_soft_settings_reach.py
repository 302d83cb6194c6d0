"""The soft stage's settings reach the trainer: ``soft.patience`` stops training early, and the twin is the
scorer's own loaded model when they are the same model (no second copy)."""

from __future__ import annotations

import asyncio

import pytest

torch = pytest.importorskip("torch")

from orchestrator.backends.base import BackendSettings  # noqa: E402
from orchestrator.backends.local import LocalBackend  # noqa: E402
from orchestrator.config import Campaign, SoftConfig  # noqa: E402
from orchestrator.local_model.engine import LocalEngine  # noqa: E402
from orchestrator.local_model.options import LocalModelOptions  # noqa: E402
from orchestrator.soft.training import train_config, train_task_prompt  # noqa: E402
from orchestrator.soft.twin import soft_stage_for  # noqa: E402
from soft_prompts.config import PromptInit  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402
from tests.test_soft_parallel import WORDS, _splits  # noqa: E402


def test_patience_stops_training_when_the_dev_score_stalls(tmp_path):
    assert train_config(SoftConfig(patience=3), seed=0).patience == 3
    model, tokenizer = build_tiny_pair((WORDS,), hidden_size=16, seed=1)
    # a learning rate too small to move the dev accuracy: no evaluation after step 0 improves on it
    stalled = SoftConfig(steps=40, batch_size=4, learning_rate=1e-12, eval_every=2, n_virtual_tokens=3)
    stopped = train_task_prompt(
        model,
        tokenizer,
        "tiny",
        _splits(),
        PromptInit(kind="random", seed=2),
        stalled.model_copy(update={"patience": 2}),
        0,
        tmp_path / "p",
        None,
    )
    assert stopped.curve[-1].step == 4  # evaluations at 2 and 4 did not beat step 0
    full = train_task_prompt(
        model,
        tokenizer,
        "tiny",
        _splits(),
        PromptInit(kind="random", seed=2),
        stalled,
        0,
        tmp_path / "f",
        None,
    )
    assert full.curve[-1].step == 40


def _campaign(scorer: str, soft_model: str | None = None) -> Campaign:
    return Campaign.model_validate(
        {"models": {"scorer": {"model": scorer}}, "soft": {"enabled": True, "model": soft_model}}
    )


def test_the_twin_is_the_scorers_loaded_model_not_a_second_copy(monkeypatch):
    import orchestrator.local_model as local_model

    model, tokenizer = build_tiny_pair((WORDS,), hidden_size=16, seed=1)
    engine = LocalEngine("tiny", LocalModelOptions.from_mapping({}), model=model, tokenizer=tokenizer)
    backend = LocalBackend("local/tiny", BackendSettings(), engine=engine)

    def no_second_load(*args, **kwargs):
        raise AssertionError("the soft stage loaded a second copy of the scorer's model")

    monkeypatch.setattr(local_model, "load_causal_lm", no_second_load)
    stage = soft_stage_for(_campaign("local/tiny"), {}, backend)

    async def twin():
        try:
            return await stage.model.get()
        finally:
            await backend.aclose()

    shared_model, shared_tokenizer = asyncio.run(twin())
    assert shared_model is model and shared_tokenizer is tokenizer
    # another model named as the twin is loaded on its own, never swapped for the scorer's
    other = soft_stage_for(_campaign("local/tiny", "local/other"), {}, backend)
    with pytest.raises(AssertionError, match="second copy"):
        other.model.load()
