"""End to end on the real embedded model (SmolLM2-135M-Instruct): tune, score, export to PEFT, reload."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from tests.peft_reference import greedy_reference  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    from orchestrator.local_model import ensure_embedded_model
    from soft_prompts.devices import load_base_model, plan_devices

    model_dir = ensure_embedded_model()
    model, tokenizer = load_base_model(model_dir, plan_devices("cpu"))
    return model_dir, model, tokenizer


def test_text_initialised_prompt_on_smollm2(smollm2, tmp_path):
    from soft_prompts import PromptExample, PromptInit, TaskData, TrainConfig, train_soft_prompt
    from soft_prompts.api import export_prompt_as_peft, load_soft_prompt
    from soft_prompts.data import encode_texts
    from soft_prompts.scoring import label_probabilities

    model_dir, model, tokenizer = smollm2
    reviews = [
        ("A wonderful, moving film.", " positive"),
        ("Dull and far too long.", " negative"),
        ("I loved every minute.", " positive"),
        ("A waste of time.", " negative"),
    ]
    examples = tuple(PromptExample(f"Review: {text}\nSentiment:", label) for text, label in reviews)
    task = TaskData("mini_sentiment", examples, examples[:2], labels=(" positive", " negative"))
    run = train_soft_prompt(
        model,
        tokenizer,
        task,
        PromptInit(kind="text", text="Classify the sentiment of the review as positive or negative."),
        n_virtual_tokens=8,
        config=TrainConfig(max_steps=2, batch_size=2, eval_every=2, max_length=48),
        model_id="smollm2-135m-instruct",
        out_dir=tmp_path / "prompt",
    )
    assert run.result.steps == 2 and [step for step, _ in run.result.dev_curve] == [0, 2]
    assert all(parameter.grad is None for parameter in model.parameters())
    assert run.initial_prompt.shape == (8, 576)
    probabilities = label_probabilities(run.model, tokenizer, [e.input_text for e in examples], task.labels)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(4))

    adapter = export_prompt_as_peft(tmp_path / "prompt", tmp_path / "adapter", base_model=model)
    reloaded = load_soft_prompt(tmp_path / "prompt", model, model_id="smollm2-135m-instruct")
    batch = encode_texts(tokenizer, [examples[0].input_text], 48)
    ours = reloaded.generate(batch.input_ids, batch.attention_mask, max_new_tokens=4, eos_token_id=[])
    assert ours.tolist() == greedy_reference(reloaded, batch.input_ids, batch.attention_mask, 4)
    # Prompt tuning injects no layers, so wrapping the shared model leaves it unchanged for other tests.
    peft_model = peft.PeftModel.from_pretrained(model, str(adapter)).eval()
    with torch.no_grad():
        ours_logits = reloaded(batch.input_ids, batch.attention_mask).logits
        theirs_logits = peft_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    torch.testing.assert_close(ours_logits, theirs_logits, atol=1e-4, rtol=1e-4)
