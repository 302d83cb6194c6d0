"""Gated prompt fusion: gate normalisation, temperature limit, shapes, freezing, instance gate, storage."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from soft_prompts.checkpoint import load_prompt_info, load_prompt_module, save_prompt  # noqa: E402
from soft_prompts.config import FusionConfig  # noqa: E402
from soft_prompts.data import PromptExample, collate, encode_texts, pad_token_id, tokenize_examples  # noqa: E402
from soft_prompts.fusion import GatedPromptFusion, own_prompt_gate_logits  # noqa: E402
from soft_prompts.model import SoftPromptModel  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402

N_TASKS, POOL, N_VIRTUAL, DIM = 3, 4, 5, 16


def _pool(seed: int = 0) -> torch.Tensor:
    return torch.randn(POOL, N_VIRTUAL, DIM, generator=torch.Generator().manual_seed(seed))


def _fusion(**overrides) -> GatedPromptFusion:
    config = FusionConfig(
        num_tasks=N_TASKS, pool_size=POOL, n_virtual_tokens=N_VIRTUAL, token_dim=DIM, **overrides
    )
    torch.manual_seed(0)
    return GatedPromptFusion(config, _pool())


def _randomise_gate(fusion: GatedPromptFusion, seed: int = 1) -> None:
    with torch.no_grad():
        fusion.gate.weight.copy_(
            torch.randn(fusion.gate.weight.shape, generator=torch.Generator().manual_seed(seed))
        )


def test_shapes_and_initial_uniform_gate():
    fusion = _fusion()
    task_ids = torch.tensor([0, 2, 1, 2])
    prompts = fusion(4, task_ids=task_ids)
    assert prompts.shape == (4, N_VIRTUAL, DIM)
    weights = fusion.gate_weights(task_ids)
    torch.testing.assert_close(weights, torch.full((4, POOL), 1 / POOL))
    # Zero gate and zero target prompt: every task starts from the pool mean.
    torch.testing.assert_close(prompts[0], _pool().mean(dim=0))
    assert fusion.task_gate_matrix().shape == (N_TASKS, POOL)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.floats(min_value=0.01, max_value=100.0))
def test_gate_weights_sum_to_one(seed, temperature):
    fusion = _fusion(temperature=temperature)
    _randomise_gate(fusion, seed)
    weights = fusion.gate_weights(torch.arange(N_TASKS))
    assert bool((weights >= 0).all())
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(N_TASKS))
    fused = fusion(N_TASKS, task_ids=torch.arange(N_TASKS))
    expected = torch.einsum("bm,mnd->bnd", weights, _pool()) + fusion.target_prompt
    torch.testing.assert_close(fused, expected)


def test_temperature_to_zero_gives_one_hot_gate():
    fusion = _fusion()
    _randomise_gate(fusion)
    task_ids = torch.arange(N_TASKS)
    logits = fusion.gate_logits(task_ids)
    hard = fusion.gate_weights(task_ids, temperature=1e-4)
    torch.testing.assert_close(hard, torch.nn.functional.one_hot(logits.argmax(dim=-1), POOL).float())
    cold = _fusion(temperature=1e-4, use_target_prompt=False)
    _randomise_gate(cold)
    prompts = cold(N_TASKS, task_ids=task_ids)
    for task in range(N_TASKS):
        torch.testing.assert_close(prompts[task], _pool()[int(logits[task].argmax())])
    soft = fusion.gate_weights(task_ids, temperature=1e4)
    torch.testing.assert_close(soft, torch.full((N_TASKS, POOL), 1 / POOL), atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        fusion.gate_weights(task_ids, temperature=0.0)


def test_frozen_pool_gets_no_gradient_and_unfrozen_does():
    for freeze in (True, False):
        fusion = _fusion(freeze_pool=freeze)
        _randomise_gate(fusion)
        fusion(2, task_ids=torch.tensor([0, 1])).pow(2).sum().backward()
        assert (fusion.pool.grad is None) == freeze
        assert fusion.gate.weight.grad is not None
        assert fusion.target_prompt.grad is not None


def test_instance_aware_gate_depends_on_input():
    fusion = _fusion(instance_aware=True)
    with torch.no_grad():
        for parameter in fusion.instance_projector.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=torch.Generator().manual_seed(5)))
    task_ids = torch.tensor([1, 1])
    embeds = torch.randn(2, 7, DIM, generator=torch.Generator().manual_seed(6))
    mask = torch.ones(2, 7, dtype=torch.long)
    weights = fusion.gate_weights(task_ids, embeds, mask)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2))
    assert not torch.allclose(weights[0], weights[1])
    # Padding is excluded from the pooled input: extra masked columns change nothing.
    padded = torch.cat([torch.randn(2, 3, DIM), embeds], dim=1)
    padded_mask = torch.cat([torch.zeros(2, 3, dtype=torch.long), mask], dim=1)
    torch.testing.assert_close(fusion.gate_weights(task_ids, padded, padded_mask), weights)
    with pytest.raises(ValueError, match="needs input_embeds"):
        fusion(2, task_ids=task_ids)
    with pytest.raises(ValueError, match="instance-aware gate has no per-task prompt"):
        fusion.static_prompt(0)


def test_fusion_in_soft_prompt_model_trains_only_prompt_side():
    model, tokenizer = build_tiny_pair()
    fusion = _fusion(instance_aware=True)
    prompted = SoftPromptModel(model, fusion)
    rows = tokenize_examples(tokenizer, [PromptExample("review : great answer :", " positive")] * 2, 64)
    batch = collate(rows, pad_token_id(tokenizer))
    loss = (
        prompted(batch.input_ids, batch.attention_mask, batch.labels, torch.tensor([0, 2])).mean_loss().sum()
    )
    loss.backward()
    assert all(parameter.grad is None for parameter in model.parameters())
    assert fusion.pool.grad is None
    trained = {name for name, p in fusion.named_parameters() if p.grad is not None}
    assert {"gate.weight", "target_prompt", "instance_projector.3.weight"} <= trained
    with pytest.raises(ValueError, match="task_ids of shape"):
        prompted(batch.input_ids, batch.attention_mask)


def test_static_prompt_and_checkpoint_round_trip(tmp_path):
    fusion = _fusion()
    _randomise_gate(fusion)
    with torch.no_grad():
        fusion.target_prompt.add_(0.1)
    for task in range(N_TASKS):
        torch.testing.assert_close(fusion.static_prompt(task), fusion(1, task_ids=torch.tensor([task]))[0])
    save_prompt(fusion, tmp_path, model_id="tiny", task_names=("a", "b", "c"))
    info = load_prompt_info(tmp_path)
    assert info.kind == "fusion" and info.task_names == ("a", "b", "c") and info.model == "tiny"
    restored = load_prompt_module(tmp_path)
    assert isinstance(restored, GatedPromptFusion)
    assert restored.pool.requires_grad is False
    task_ids = torch.tensor([0, 1, 2])
    torch.testing.assert_close(restored(3, task_ids=task_ids), fusion(3, task_ids=task_ids))


def test_fused_prompts_follow_the_gate_through_the_model():
    model, tokenizer = build_tiny_pair()
    fusion = _fusion(temperature=1e-4, use_target_prompt=False)
    _randomise_gate(fusion)
    prompted = SoftPromptModel(model, fusion)
    batch = encode_texts(tokenizer, ["review : great answer :"], 64)
    chosen = int(fusion.gate_logits(torch.tensor([0])).argmax())
    from soft_prompts.prompt import PromptEmbedding

    single = SoftPromptModel(model, PromptEmbedding(_pool()[chosen]))
    torch.testing.assert_close(
        prompted(batch.input_ids, batch.attention_mask, task_ids=torch.tensor([0])).logits,
        single(batch.input_ids, batch.attention_mask).logits,
    )


def test_bad_shapes_are_refused():
    config = FusionConfig(num_tasks=1, pool_size=2, n_virtual_tokens=3, token_dim=4)
    with pytest.raises(ValueError, match=r"pool shape \(3, 3, 4\) != \(2, 3, 4\)"):
        GatedPromptFusion(config, torch.zeros(3, 3, 4))
    with pytest.raises(ValueError, match="target_prompt shape"):
        GatedPromptFusion(config, torch.zeros(2, 3, 4), target_prompt=torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"initial_gate_logits shape \(2, 2\) != \(1, 2\)"):
        GatedPromptFusion(config, torch.zeros(2, 3, 4), initial_gate_logits=torch.zeros(2, 2))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, POOL - 1)), min_size=N_TASKS, max_size=N_TASKS),
    st.floats(min_value=0.0, max_value=8.0),
    st.floats(min_value=0.1, max_value=4.0),
)
def test_gate_starts_on_the_given_logits(own_prompt, margin, temperature):
    logits = own_prompt_gate_logits(own_prompt, POOL, margin)
    config = FusionConfig(
        num_tasks=N_TASKS, pool_size=POOL, n_virtual_tokens=N_VIRTUAL, token_dim=DIM, temperature=temperature
    )
    torch.manual_seed(0)
    fusion = GatedPromptFusion(config, _pool(), initial_gate_logits=logits)
    torch.testing.assert_close(fusion.gate_logits(torch.arange(N_TASKS)), logits, atol=1e-4, rtol=0)
    own_weight = 1 / (1 + (POOL - 1) * torch.exp(torch.tensor(-margin / temperature)))
    weights = fusion.task_gate_matrix()
    for task, index in enumerate(own_prompt):
        expected = torch.full((POOL,), 1 / POOL) if index is None else None
        if expected is None:
            torch.testing.assert_close(weights[task, index], own_weight, atol=1e-4, rtol=0)
        else:
            torch.testing.assert_close(weights[task], expected, atol=1e-4, rtol=0)


def test_own_prompt_start_gives_each_task_its_own_prompt_and_trains():
    fusion_config = FusionConfig(num_tasks=2, pool_size=2, n_virtual_tokens=N_VIRTUAL, token_dim=DIM)
    pool = _pool()[:2]
    # Tasks ordered against the pool; a margin of 12 makes the start one-hot to within 1e-5.
    fusion = GatedPromptFusion(
        fusion_config, pool, initial_gate_logits=own_prompt_gate_logits([1, 0], 2, 12.0)
    )
    prompts = fusion(2, task_ids=torch.tensor([0, 1]))
    torch.testing.assert_close(prompts[0], pool[1], atol=1e-4, rtol=0)
    torch.testing.assert_close(prompts[1], pool[0], atol=1e-4, rtol=0)
    # The gate is not saturated into silence: task embeddings and gate both get gradients.
    moderate = GatedPromptFusion(
        fusion_config, pool, initial_gate_logits=own_prompt_gate_logits([1, 0], 2, 4.0)
    )
    moderate(2, task_ids=torch.tensor([0, 1])).pow(2).sum().backward()
    assert moderate.gate.weight.grad.abs().sum() > 0
    assert moderate.task_embeddings.weight.grad.abs().sum() > 0


def test_own_prompt_gate_logits_refuses_bad_input():
    with pytest.raises(ValueError, match="outside 0..1"):
        own_prompt_gate_logits([0, 2], 2, 4.0)
    with pytest.raises(ValueError, match="margin must be >= 0"):
        own_prompt_gate_logits([0, 1], 2, -1.0)
