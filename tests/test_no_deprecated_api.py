"""Our model code uses only the current transformers API: no deprecation warning from our own calls.

transformers announces removals (``past_key_values`` -> ``cache`` in 5.24, removed in 5.40) with a
``FutureWarning`` or a one-time logger warning. Both fire once per process, so the code paths run in a
fresh interpreter where FutureWarning and DeprecationWarning are errors and transformers' logger
writes to stderr, which must then hold no deprecation notice.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[1]

# Every place where our code calls a transformers model: local decoding (with its KV cache), label
# scoring with and without a shared-prefix cache, and the soft-prompt model's forward and generate.
EXERCISE = """
import torch
from transformers.utils import logging
logging.set_verbosity_warning()
from orchestrator.local_model.generation import GenerationParams, generate_batch
from orchestrator.local_model.scoring import ScoringItem, score_items
from soft_prompts.data import encode_texts
from soft_prompts.model import SoftPromptModel
from soft_prompts.prompt import PromptEmbedding
from soft_prompts.tiny import build_tiny_pair

model, tokenizer = build_tiny_pair()
prompts = [tokenizer.encode(text) for text in ("review : the movie was great", "question : is it")]
params = [GenerationParams(max_tokens=6), GenerationParams(max_tokens=3, temperature=0.7, seed=1)]
generate_batch(model, tokenizer, prompts, params)
shared = tokenizer.encode("question : is the sky blue " * 3)
items = [ScoringItem(tuple(shared + p), (tuple(tokenizer.encode(" yes")),)) for p in prompts]
score_items(model, items, pad_token_id=tokenizer.pad_token_id)
score_items(model, items[:1], pad_token_id=tokenizer.pad_token_id)
prompted = SoftPromptModel(model, PromptEmbedding(torch.randn(4, model.config.hidden_size)))
batch = encode_texts(tokenizer, ["review : the movie was great answer :"], 32)
prompted(batch.input_ids, batch.attention_mask)
prompted.generate(batch.input_ids, batch.attention_mask, max_new_tokens=4, eos_token_id=[])
print("exercised")
"""


def test_model_code_paths_raise_no_deprecation_warning():
    result = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-W", "error::DeprecationWarning", "-c", EXERCISE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "exercised" in result.stdout
    notices = [line for line in result.stderr.splitlines() if "deprecat" in line.lower()]
    assert notices == []
