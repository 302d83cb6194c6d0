"""Prompt initialisations: text, vocabulary sample, random, stored prompt, task-vector combination."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from soft_prompts.checkpoint import save_prompt, save_static_prompt  # noqa: E402
from soft_prompts.config import FusionConfig, PromptInit  # noqa: E402
from soft_prompts.fusion import GatedPromptFusion  # noqa: E402
from soft_prompts.init import build_initial_prompt, random_init, stored_init, text_init, vocab_init  # noqa: E402
from soft_prompts.peft_interop import export_peft_adapter  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402
from soft_prompts.vectors import create_task_vector, save_origin, save_vector  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_pair()


def _embeddings(model) -> torch.Tensor:
    return model.get_input_embeddings().weight.detach()


def test_text_init_repeats_and_truncates(tiny):
    model, tokenizer = tiny
    ids = tokenizer("the movie was", add_special_tokens=False)["input_ids"]
    assert len(ids) == 3
    matrix = _embeddings(model)
    repeated = text_init("the movie was", tokenizer, matrix, 7)
    torch.testing.assert_close(repeated, matrix[torch.tensor(ids * 3)[:7]])
    truncated = text_init("the movie was", tokenizer, matrix, 2)
    torch.testing.assert_close(truncated, matrix[torch.tensor(ids[:2])])
    with pytest.raises(ValueError, match="produces no tokens"):
        text_init("   ", tokenizer, matrix, 4)


def test_vocab_init_samples_rows_and_skips_special_tokens(tiny):
    model, tokenizer = tiny
    matrix = _embeddings(model)
    special = tokenizer.all_special_ids
    sample = vocab_init(matrix, 50, torch.Generator().manual_seed(0), special)
    equal_rows = (sample[:, None, :] == matrix[None, :, :]).all(dim=-1)  # (50, vocab)
    assert bool(equal_rows.any(dim=1).all()), "every row must be a vocabulary embedding"
    picked = set(equal_rows.nonzero()[:, 1].tolist())
    assert not picked & set(special)
    assert len(picked) > 10
    again = vocab_init(matrix, 50, torch.Generator().manual_seed(0), special)
    torch.testing.assert_close(sample, again)
    with pytest.raises(ValueError, match="every vocabulary id"):
        vocab_init(matrix, 2, torch.Generator(), list(range(matrix.shape[0])))


def test_random_init_scale_and_seed():
    sample = random_init(400, 16, torch.Generator().manual_seed(1), std=0.5)
    assert abs(float(sample.std()) - 0.5) < 0.03
    torch.testing.assert_close(sample, random_init(400, 16, torch.Generator().manual_seed(1), std=0.5))


def test_build_initial_prompt_dispatch(tiny, tmp_path):
    model, tokenizer = tiny
    text = build_initial_prompt(PromptInit(kind="text", text="the movie was"), model, tokenizer, 4)
    torch.testing.assert_close(text, text_init("the movie was", tokenizer, _embeddings(model), 4))
    vocab = build_initial_prompt(PromptInit(kind="vocab", seed=3), model, tokenizer, 4)
    assert vocab.shape == (4, 16)
    first = build_initial_prompt(PromptInit(kind="random", seed=3), model, tokenizer, 4)
    second = build_initial_prompt(PromptInit(kind="random", seed=4), model, tokenizer, 4)
    assert not torch.allclose(first, second)
    save_static_prompt(first, tmp_path / "saved")
    stored = build_initial_prompt(
        PromptInit(kind="stored", path=str(tmp_path / "saved")), model, tokenizer, 4
    )
    torch.testing.assert_close(stored, first)
    with pytest.raises(ValueError, match=r"expected \(6, 16\)"):
        build_initial_prompt(PromptInit(kind="stored", path=str(tmp_path / "saved")), model, tokenizer, 6)


def test_stored_init_reads_peft_and_refuses_fused(tmp_path):
    prompt = torch.randn(3, 16)
    export_peft_adapter(prompt, tmp_path / "peft")
    torch.testing.assert_close(stored_init(tmp_path / "peft"), prompt)
    fusion = GatedPromptFusion(
        FusionConfig(num_tasks=2, pool_size=2, n_virtual_tokens=3, token_dim=16), torch.randn(2, 3, 16)
    )
    save_prompt(fusion, tmp_path / "fused")
    with pytest.raises(ValueError, match="fused prompt"):
        stored_init(tmp_path / "fused")
    with pytest.raises(FileNotFoundError, match="no soft prompt"):
        stored_init(tmp_path / "nothing")


def test_vectors_init_is_origin_plus_weighted_sum(tiny, tmp_path):
    model, tokenizer = tiny
    origin = torch.randn(4, 16)
    tuned_a, tuned_b = origin + torch.randn(4, 16), origin + torch.randn(4, 16)
    save_origin(tmp_path, origin)
    save_vector(tmp_path, create_task_vector(tuned_a, origin, "a", "task_a", "tiny"))
    save_vector(tmp_path, create_task_vector(tuned_b, origin, "b", "task_b", "tiny"))
    init = PromptInit(kind="vectors", store_dir=str(tmp_path), vector_names=("a", "b"), weights=(1.0, 0.5))
    prompt = build_initial_prompt(init, model, tokenizer, 4, model_id="tiny")
    torch.testing.assert_close(prompt, origin + (tuned_a - origin) + 0.5 * (tuned_b - origin))
    with pytest.raises(ValueError, match="were tuned on 'tiny'"):
        build_initial_prompt(init, model, tokenizer, 4, model_id="other-model")
