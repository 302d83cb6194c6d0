"""SoftPromptModel on a tiny config-built Llama: shapes, gradients, left padding, scoring, generation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from soft_prompts.data import PromptExample, collate, encode_texts, pad_token_id, tokenize_examples  # noqa: E402
from soft_prompts.model import SoftPromptModel  # noqa: E402
from soft_prompts.prompt import PromptEmbedding  # noqa: E402
from soft_prompts.scoring import generate_texts, label_log_likelihoods, label_probabilities  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402

N_VIRTUAL = 4
TEXTS = [
    "review : the movie was great and fun answer :",
    "question : is the sky blue answer :",
    "sports : the player scored",
]
LABELS = [" positive", " negative", " true false"]


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_pair()


def _prompted(tiny, seed: int = 1, **kwargs) -> SoftPromptModel:
    model, _ = tiny
    generator = torch.Generator().manual_seed(seed)
    return SoftPromptModel(model, PromptEmbedding(torch.randn(N_VIRTUAL, 16, generator=generator)), **kwargs)


def test_forward_shapes_and_labelled_output(tiny):
    prompted = _prompted(tiny)
    _, tokenizer = tiny
    batch = encode_texts(tokenizer, TEXTS, 64)
    output = prompted(batch.input_ids, batch.attention_mask)
    assert output.logits.shape == (3, N_VIRTUAL + batch.input_ids.shape[1], len(tokenizer))
    rows = tokenize_examples(tokenizer, [PromptExample(t, " positive") for t in TEXTS], 64)
    labelled = collate(rows, pad_token_id(tokenizer))
    scored = prompted(labelled.input_ids, labelled.attention_mask, labels=labelled.labels)
    assert scored.logits is None
    assert scored.target_logprob.shape == (3,)
    assert scored.target_tokens.tolist() == [1, 1, 1]


def test_prompt_dim_mismatch_is_refused(tiny):
    model, _ = tiny
    with pytest.raises(ValueError, match="token_dim 8 != model hidden size 16"):
        SoftPromptModel(model, PromptEmbedding(torch.zeros(2, 8)))


def test_target_logprob_matches_full_logits(tiny):
    """The logits_to_keep shortcut must give what a full forward pass gives."""
    prompted = _prompted(tiny)
    _, tokenizer = tiny
    rows = tokenize_examples(
        tokenizer, [PromptExample(TEXTS[0], " positive"), PromptExample(TEXTS[1], " true false")], 64
    )
    batch = collate(rows, pad_token_id(tokenizer))
    fast = prompted(batch.input_ids, batch.attention_mask, labels=batch.labels).target_logprob
    logits = prompted(batch.input_ids, batch.attention_mask).logits[:, N_VIRTUAL - 1 : -1]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    mask = batch.labels != -100
    gathered = logprobs.gather(-1, batch.labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    slow = (gathered * mask).sum(dim=1)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


def test_left_padded_batch_equals_unpadded_rows(tiny):
    prompted = _prompted(tiny)
    _, tokenizer = tiny
    batch = encode_texts(tokenizer, TEXTS, 64)
    assert (batch.attention_mask == 0).any(), "the batch must actually contain padding"
    logits = prompted(batch.input_ids, batch.attention_mask).logits
    for row, text in enumerate(TEXTS):
        single = encode_texts(tokenizer, [text], 64)
        alone = prompted(single.input_ids, single.attention_mask).logits[0]
        length = single.input_ids.shape[1]
        torch.testing.assert_close(logits[row, -length:], alone[-length:], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(logits[row, :N_VIRTUAL], alone[:N_VIRTUAL], atol=1e-5, rtol=1e-5)
    batched = label_log_likelihoods(prompted, tokenizer, TEXTS, LABELS, batch_size=5)
    for row, text in enumerate(TEXTS):
        one = label_log_likelihoods(prompted, tokenizer, [text], LABELS, batch_size=1)
        torch.testing.assert_close(batched[row], one[0], atol=1e-5, rtol=1e-5)


def test_label_probabilities_sum_to_one(tiny):
    prompted = _prompted(tiny)
    _, tokenizer = tiny
    probabilities = label_probabilities(prompted, tokenizer, TEXTS, LABELS, batch_size=4)
    assert probabilities.shape == (3, 3)
    assert (probabilities >= 0).all()
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(3))
    normalised = label_log_likelihoods(prompted, tokenizer, TEXTS, LABELS, length_normalise=True)
    summed = label_log_likelihoods(prompted, tokenizer, TEXTS, LABELS)
    torch.testing.assert_close(normalised[:, 2], summed[:, 2] / 2)


def test_prompt_changes_the_scores(tiny):
    _, tokenizer = tiny
    first = label_log_likelihoods(_prompted(tiny, seed=1), tokenizer, TEXTS, LABELS)
    second = label_log_likelihoods(_prompted(tiny, seed=2), tokenizer, TEXTS, LABELS)
    assert not torch.allclose(first, second)


def test_gradients_reach_only_prompt_parameters(tiny):
    model, tokenizer = tiny
    prompted = _prompted(tiny)
    prompted.train(True)
    assert not model.training, "the frozen model must stay in eval mode"
    rows = tokenize_examples(tokenizer, [PromptExample(t, " positive") for t in TEXTS], 64)
    batch = collate(rows, pad_token_id(tokenizer))
    optimizer = torch.optim.AdamW(prompted.trainable_parameters(), lr=0.1)
    before = prompted.prompt.embedding.detach().clone()
    loss = prompted(batch.input_ids, batch.attention_mask, labels=batch.labels).mean_loss().mean()
    loss.backward()
    optimizer.step()
    assert all(parameter.grad is None for parameter in model.parameters())
    assert prompted.prompt.embedding.grad is not None
    assert prompted.prompt.embedding.grad.abs().sum() > 0
    assert not torch.equal(before, prompted.prompt.embedding.detach())
    assert [p for p in prompted.parameters() if p.requires_grad] == [prompted.prompt.embedding]


def test_labels_without_targets_are_refused(tiny):
    prompted = _prompted(tiny)
    _, tokenizer = tiny
    batch = encode_texts(tokenizer, TEXTS[:1], 64)
    with pytest.raises(ValueError, match="no target token"):
        prompted(batch.input_ids, batch.attention_mask, labels=batch.labels)


def test_gradient_checkpointing_gives_same_loss_and_gradient(tiny):
    _, tokenizer = tiny
    rows = tokenize_examples(tokenizer, [PromptExample(t, " negative") for t in TEXTS], 64)
    batch = collate(rows, pad_token_id(tokenizer))
    results = []
    for checkpointing in (False, True):
        model, _ = build_tiny_pair()
        prompted = _prompted((model, tokenizer), gradient_checkpointing=checkpointing)
        prompted.train(True)
        loss = prompted(batch.input_ids, batch.attention_mask, labels=batch.labels).mean_loss().mean()
        loss.backward()
        results.append((loss.detach(), prompted.prompt.embedding.grad.clone()))
        assert all(parameter.grad is None for parameter in model.parameters())
    torch.testing.assert_close(results[0][0], results[1][0])
    torch.testing.assert_close(results[0][1], results[1][1], atol=1e-6, rtol=1e-5)


def test_bf16_base_keeps_fp32_prompt(tiny):
    model, tokenizer = build_tiny_pair()
    model = model.to(torch.bfloat16)
    prompted = SoftPromptModel(model, PromptEmbedding(torch.randn(N_VIRTUAL, 16)))
    rows = tokenize_examples(tokenizer, [PromptExample(TEXTS[0], " positive")], 64)
    batch = collate(rows, pad_token_id(tokenizer))
    loss = prompted(batch.input_ids, batch.attention_mask, labels=batch.labels).mean_loss().mean()
    loss.backward()
    assert prompted.prompt.embedding.dtype == torch.float32
    assert prompted.prompt.embedding.grad.dtype == torch.float32
    assert torch.isfinite(loss)


def test_greedy_generation_padded_equals_unpadded(tiny):
    prompted = _prompted(tiny)
    _, tokenizer = tiny
    batch = encode_texts(tokenizer, TEXTS, 64)
    generated = prompted.generate(batch.input_ids, batch.attention_mask, max_new_tokens=5, eos_token_id=[])
    assert generated.shape == (3, 5)
    for row, text in enumerate(TEXTS):
        single = encode_texts(tokenizer, [text], 64)
        alone = prompted.generate(single.input_ids, single.attention_mask, max_new_tokens=5, eos_token_id=[])
        assert generated[row].tolist() == alone[0].tolist()
    texts = generate_texts(prompted, tokenizer, TEXTS, max_new_tokens=3, batch_size=2)
    assert len(texts) == 3 and all(isinstance(text, str) for text in texts)


def test_generation_depends_on_the_prompt(tiny):
    _, tokenizer = tiny
    batch = encode_texts(tokenizer, TEXTS, 64)
    outputs = {
        tuple(
            _prompted(tiny, seed=seed).generate(batch.input_ids, batch.attention_mask, 6).flatten().tolist()
        )
        for seed in range(4)
    }
    assert len(outputs) > 1


def _loss_and_grad(prompted: SoftPromptModel, batch, task_ids=None):
    prompted.train(True)
    output = prompted(batch.input_ids, batch.attention_mask, labels=batch.labels, task_ids=task_ids)
    loss = output.mean_loss()
    loss.mean().backward()
    grads = [p.grad.clone() for p in prompted.trainable_parameters()]
    return loss.detach(), grads


def test_shared_prefix_gives_the_per_row_loss_and_gradient(tiny):
    """Computing the virtual tokens once per batch must change nothing but the cost."""
    _, tokenizer = tiny
    rows = tokenize_examples(
        tokenizer,
        [
            PromptExample(TEXTS[0], " positive"),
            PromptExample(TEXTS[1], " true false"),
            PromptExample("a", " b"),
        ],
        64,
    )
    batch = collate(rows, pad_token_id(tokenizer))
    assert int(batch.attention_mask.sum(dim=1).min()) < batch.input_ids.shape[1], "needs a padded row"
    shared = _loss_and_grad(_prompted(tiny, share_prefix=True), batch)
    per_row = _loss_and_grad(_prompted(tiny, share_prefix=False), batch)
    torch.testing.assert_close(shared[0], per_row[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(shared[1][0], per_row[1][0], atol=1e-5, rtol=1e-4)
    assert shared[1][0].abs().sum() > 0


def test_shared_prefix_per_task_for_a_gated_fusion(tiny):
    from soft_prompts.config import FusionConfig
    from soft_prompts.fusion import GatedPromptFusion

    model, tokenizer = tiny
    rows = tokenize_examples(tokenizer, [PromptExample(t, " positive") for t in TEXTS], 64)
    batch = collate(rows, pad_token_id(tokenizer))
    task_ids = torch.tensor([1, 0, 1])
    results = []
    for share in (True, False):
        generator = torch.Generator().manual_seed(3)
        pool = torch.randn(2, N_VIRTUAL, 16, generator=generator)
        torch.manual_seed(0)
        fusion = GatedPromptFusion(
            FusionConfig(num_tasks=2, pool_size=2, n_virtual_tokens=N_VIRTUAL, token_dim=16), pool
        )
        with torch.no_grad():
            fusion.gate.weight.normal_()  # a non-uniform gate: the two tasks get different prompts
        results.append(_loss_and_grad(SoftPromptModel(model, fusion, share_prefix=share), batch, task_ids))
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-5, rtol=1e-5)
    for shared_grad, per_row_grad in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(shared_grad, per_row_grad, atol=1e-5, rtol=1e-4)


def test_bf16_autocast_stays_close_to_fp32_and_keeps_fp32_parameters(tiny):
    _, tokenizer = tiny
    rows = tokenize_examples(tokenizer, [PromptExample(t, " negative") for t in TEXTS], 64)
    batch = collate(rows, pad_token_id(tokenizer))
    exact = _loss_and_grad(_prompted(tiny), batch)
    prompted = _prompted(tiny, autocast_dtype=torch.bfloat16)
    fast = _loss_and_grad(prompted, batch)
    assert fast[0].dtype == torch.float32 and fast[1][0].dtype == torch.float32
    assert prompted.prompt.embedding.dtype == torch.float32
    assert not torch.equal(fast[0], exact[0]), "autocast was not applied"
    torch.testing.assert_close(fast[0], exact[0], atol=0.05, rtol=0.05)
    cosine = torch.nn.functional.cosine_similarity(fast[1][0].flatten(), exact[1][0].flatten(), dim=0)
    assert cosine > 0.98
    with prompted.mode(False), torch.no_grad():  # evaluation is exact whatever the training precision
        evaluated = prompted(batch.input_ids, batch.attention_mask, labels=batch.labels).mean_loss()
    torch.testing.assert_close(evaluated, exact[0])
