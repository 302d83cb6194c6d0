"""A tiny, offline causal LM for the local-backend tests, and checks that it behaves like a real one.

The other ``test_local_*`` modules import ``tiny_model_dir`` / ``build_tiny_pair`` from here. The
tokenizer is a byte-level BPE trained in memory (so decoding tokens one by one concatenates to
the decoded text, as with SmolLM2's tokenizer) with a ChatML chat template; the model is a
2-layer Llama with grouped-query attention, randomly initialised from a fixed seed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "the movie was great and fun, answer positive",
    "the film was terrible and boring, answer negative",
    "premise: a man sleeps. hypothesis: a person rests. entailment neutral contradiction",
    "is the statement plausible or implausible? True False yes no maybe",
    "Classify the sentiment of the review. Answer with one word.",
    "tell me a short story about a cat and a dog in the park, then stop.",
] * 4


def build_tiny_tokenizer():
    """A byte-level BPE tokenizer with ChatML specials, trained on ``CORPUS``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHATML
    return tokenizer


def build_tiny_pair(seed: int = 0):
    """``(model, tokenizer)``: a random 2-layer Llama (GQA, fp32, eval mode) and the tiny tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.3,  # sharper predictions than 0.02, so different inputs score differently
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    return model, tokenizer


def save_tiny_model(directory: Path, seed: int = 0) -> Path:
    """Write the tiny model and tokenizer as a Hugging Face directory (what ``local/<dir>`` loads)."""
    model, tokenizer = build_tiny_pair(seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_pair():
    return build_tiny_pair()


def test_tiny_tokenizer_decodes_token_by_token_like_the_whole_text(tiny_pair):
    _, tokenizer = tiny_pair
    ids = tokenizer("a cat and a dog, answer positive!", add_special_tokens=False).input_ids
    assert (
        "".join(tokenizer.decode([i]) for i in ids)
        == tokenizer.decode(ids)
        == "a cat and a dog, answer positive!"
    )


def test_tiny_directory_round_trips_through_load_causal_lm(tiny_model_dir, tiny_pair):
    from orchestrator.local_model import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_model_dir, device="cpu")
    reference, _ = tiny_pair
    ids = torch.tensor([tokenizer("the film was fun").input_ids])
    with torch.inference_mode():
        assert torch.allclose(model(ids).logits, reference(ids).logits, atol=1e-5)
    assert tokenizer.chat_template == CHATML and not model.training


def test_loading_draws_no_progress_bar_and_leaves_the_setting_alone(tiny_model_dir, capfd):
    from transformers.utils import logging as hf_logging

    from orchestrator.local_model import load_causal_lm
    from soft_prompts.devices import load_base_model

    assert hf_logging.is_progress_bar_enabled()
    load_causal_lm(tiny_model_dir, device="cpu")
    load_base_model(tiny_model_dir)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # restored for the caller's own loading
