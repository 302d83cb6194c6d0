"""Tiny config-built causal LMs and tokenizers for tests, smoke runs and CPU dry-runs of the benchmarks.

Everything is built offline: a word-level tokenizer trained on the given sentences and a randomly initialised
Llama model whose vocabulary matches it.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_TEXTS: tuple[str, ...] = (
    "review : the movie was great and fun answer : positive",
    "review : the film was terrible and boring answer : negative",
    "premise : a man sleeps hypothesis : a person rests answer : yes no maybe",
    "question : is the sky blue answer : true false",
    "sports : the player scored a goal plausible implausible",
    "tell me a short story about a cat and a dog in the park",
)
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<unk>", "<s>", "</s>")


def build_tiny_tokenizer(texts: Sequence[str] = DEFAULT_TEXTS):
    """A ``PreTrainedTokenizerFast`` with a word-level vocabulary over ``texts``.

    Returns:
        The tokenizer; ids 0-3 are ``<pad> <unk> <s> </s>``, it adds no special tokens by itself.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.train_from_iterator(list(texts), trainers.WordLevelTrainer(special_tokens=list(SPECIAL_TOKENS)))
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )


def build_tiny_llama(
    vocab_size: int,
    hidden_size: int = 16,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 2,
    intermediate_size: int = 32,
    seed: int = 0,
    initializer_range: float = 0.5,
):
    """A randomly initialised ``LlamaForCausalLM`` (fp32, eval mode), built from a config.

    Args:
        vocab_size: vocabulary size (``len(tokenizer)``).
        hidden_size: model width d.
        num_hidden_layers: decoder layers.
        num_attention_heads: attention heads (also used as key/value heads).
        intermediate_size: MLP width.
        seed: weight-initialisation seed.
        initializer_range: weight std; the large default (Llama uses 0.02) gives a random model sharp,
            input-dependent predictions, so a prompt can move its loss in a few steps.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        num_key_value_heads=num_attention_heads,
        max_position_embeddings=512,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
        tie_word_embeddings=False,
        initializer_range=initializer_range,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()


def build_tiny_pair(texts: Sequence[str] = DEFAULT_TEXTS, seed: int = 0, **model_kwargs):
    """A tiny tokenizer and a matching tiny Llama model: ``(model, tokenizer)``."""
    tokenizer = build_tiny_tokenizer(texts)
    return build_tiny_llama(len(tokenizer), seed=seed, **model_kwargs), tokenizer
