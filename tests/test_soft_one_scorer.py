"""One label scorer: a soft prompt is measured by the discrete prompts' own code, on the same chat.

A soft prompt initialised from a discrete prompt's text (one virtual token per text token) must score,
before any training, what that discrete prompt scores through ``promptfusion eval``'s path (gateway, local
backend, evaluator, calibration). Tiny config-built Llama with a ChatML template; the real embedded model in
the slow test.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from orchestrator.soft.data import SoftSplits, task_data
from orchestrator.soft.measure import held_out_row
from orchestrator.tasks import Task
from orchestrator.tasks.evaluation import evaluate_on_task
from orchestrator.tasks.task import Example

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)
WORDS = "system user assistant review the movie was great terrible fun boring plot actors positive negative"
PROMPT = "review the plot and answer positive or negative"


def _tiny_chat_pair(folder):
    from soft_prompts.tiny import build_tiny_llama, build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer((WORDS,))
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = CHATML
    model = build_tiny_llama(len(tokenizer), hidden_size=32, seed=3)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _task() -> Task:
    rng = random.Random(0)
    words = WORDS.split()[3:-2]
    examples = []
    for index in range(48):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
        examples.append(Example(f"t:{index}", {"input": text}, rng.choice(("positive", "negative"))))
    return Task(name="tiny_sentiment", examples=tuple(examples), labels=("positive", "negative"))


def _text_init_prompt(model, tokenizer, text, folder):
    """A soft prompt initialised from ``text``, one virtual token per text token, saved (step 0)."""
    from soft_prompts.checkpoint import save_static_prompt
    from soft_prompts.config import PromptInit
    from soft_prompts.init import build_initial_prompt

    n_virtual = len(tokenizer(text, add_special_tokens=False).input_ids)
    start = build_initial_prompt(PromptInit(kind="text", text=text), model, tokenizer, n_virtual)
    return save_static_prompt(start, folder, model_id="tiny")


def _step_zero_matches(model_ref: str, folder, task: Task, prompt: str, test_limit: int | None, tol: float):
    from orchestrator.local_model import load_causal_lm

    discrete = asyncio.run(
        evaluate_on_task(
            task,
            prompt,
            model=model_ref,
            split="test",
            calibration="batch",
            scoring="label_scores",
            limit=test_limit,
        )
    ).report
    model, tokenizer = load_causal_lm(model_ref.removeprefix("local/"))
    test = task.split("test", 0)[:test_limit]
    splits = SoftSplits(task, train=(), dev=(), test=tuple(test))
    prompt_dir = _text_init_prompt(model, tokenizer, prompt, folder / "prompt")
    row = asyncio.run(
        held_out_row(
            model, tokenizer, splits, prompt_dir, name="soft: text init", seed=0, calibration="batch"
        )
    )
    assert row.calibration == discrete.label_calibration == "batch"
    assert row.predictions == [example.prediction for example in discrete.examples]
    assert row.accuracy == pytest.approx(discrete.scores["accuracy"], abs=1e-12)
    assert row.ece == pytest.approx(discrete.scores["ece"], abs=tol)
    return model, tokenizer, splits, prompt_dir


def test_text_init_soft_prompt_scores_what_its_discrete_prompt_scores(tmp_path):
    folder = _tiny_chat_pair(tmp_path / "tiny")
    _step_zero_matches(f"local/{folder}", tmp_path, _task(), PROMPT, None, 1e-5)


def test_soft_prompt_model_trains_on_the_scored_input(tmp_path):
    """The training-side model (``SoftPromptModel`` on ``task_data``) sees the chat the scorer scores: its
    label log-likelihoods equal the local engine's for the same prompt."""
    import torch

    from orchestrator.local_model import load_causal_lm
    from orchestrator.local_model.engine import LocalEngine, ScoreJob
    from orchestrator.local_model.options import LocalModelOptions
    from orchestrator.soft.data import chat_messages
    from soft_prompts.api import load_soft_prompt
    from soft_prompts.scoring import label_log_likelihoods

    folder = _tiny_chat_pair(tmp_path / "tiny")
    model, tokenizer = load_causal_lm(str(folder))
    task = _task()
    examples = task.split("dev", 0)[:10]
    data = task_data(task, examples, examples, tokenizer)
    prompt_dir = _text_init_prompt(model, tokenizer, PROMPT, tmp_path / "prompt")
    prompted = load_soft_prompt(prompt_dir, model, prefix_ids=data.input_prefix)
    trained_view = label_log_likelihoods(
        prompted, tokenizer, [e.model_input for e in data.dev], list(data.labels)
    )
    engine = LocalEngine("tiny", LocalModelOptions.from_mapping({}), model=model, tokenizer=tokenizer)
    jobs = [ScoreJob(chat_messages(task, e, PROMPT), task.labels) for e in examples]
    discrete = torch.tensor([list(r.logprobs) for r in engine.score(jobs)])
    assert torch.allclose(trained_view, discrete, atol=1e-4)
    # and the virtual tokens do matter: a different prompt moves the scores
    other = _text_init_prompt(model, tokenizer, "fun boring", tmp_path / "other")
    moved = label_log_likelihoods(
        load_soft_prompt(other, model, prefix_ids=data.input_prefix),
        tokenizer,
        [e.model_input for e in data.dev],
        list(data.labels),
    )
    assert not torch.allclose(moved, discrete, atol=1e-3)


@pytest.mark.slow
def test_step_zero_equality_on_the_embedded_model(tmp_path):
    from orchestrator.tasks import resolve_task

    task = resolve_task("sports_understanding")
    _step_zero_matches("local/smollm2-135m-instruct", tmp_path, task, task.instruction, 16, 1e-4)
