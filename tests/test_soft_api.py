"""The public API end to end on a tiny model: source prompts -> vectors -> vector init -> fusion -> reload."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from soft_prompts import (  # noqa: E402
    PromptExample,
    PromptInit,
    TaskData,
    TrainConfig,
    combine_vectors,
    export_prompt_as_peft,
    label_probabilities,
    list_vectors,
    load_soft_prompt,
    similarity_matrix,
    train_fused_prompt,
    train_soft_prompt,
)
from soft_prompts.checkpoint import load_prompt_info  # noqa: E402
from soft_prompts.peft_interop import import_peft_adapter  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402

LABELS = (" positive", " negative")


def _task(name: str, positive: list[str], negative: list[str], labels=LABELS) -> TaskData:
    train = [PromptExample(t, " positive") for t in positive] + [
        PromptExample(t, " negative") for t in negative
    ]
    return TaskData(name, tuple(train), tuple(train[:1] + train[-1:]), labels=labels)


# Without a label set the dev score is minus the dev loss, which training lowers step by step; accuracy on two
# dev examples can tie with step 0, and a prompt never trained past its start stores no vector.
MOVIES = _task(
    "movies", ["review : the movie was great answer :"], ["review : the film was terrible answer :"], None
)
FUN = _task("fun", ["review : fun and great answer :"], ["review : boring and terrible answer :"], None)
TARGET = _task("target", ["review : the film was fun answer :"], ["review : the movie was boring answer :"])
CONFIG = TrainConfig(max_steps=12, batch_size=2, eval_every=6, learning_rate=0.1, use_accelerate=False)


def test_full_soft_stage_flow(tmp_path):
    model, tokenizer = build_tiny_pair()
    store = tmp_path / "store"
    progress = []
    source_dirs = []
    for index, task in enumerate((MOVIES, FUN)):
        run = train_soft_prompt(
            model,
            tokenizer,
            task,
            PromptInit(kind="random", seed=0),
            n_virtual_tokens=4,
            config=CONFIG,
            model_id="tiny",
            out_dir=tmp_path / task.name,
            vector_store=store,
            progress=progress.append if index == 0 else None,
        )
        source_dirs.append(run.prompt_dir)
        assert run.vector_name == task.name
        info = load_prompt_info(run.prompt_dir)
        assert info.kind == "single" and info.model == "tiny" and info.metadata["init"] == "random"
        # A stored prompt says how it was made: full TrainConfig, init, data fingerprint.
        assert info.metadata["init_config"]["kind"] == "random" and info.metadata["init_config"]["seed"] == 0
        assert TrainConfig(**info.metadata["train_config"]) == CONFIG
        assert info.metadata["data_fingerprint"] == task.fingerprint() != TARGET.fingerprint()
        reloaded = load_soft_prompt(run.prompt_dir, model, model_id="tiny")
        inputs = [example.input_text for example in task.dev]
        torch.testing.assert_close(
            label_probabilities(reloaded, tokenizer, inputs, LABELS),
            label_probabilities(run.model, tokenizer, inputs, LABELS),
        )
    assert {record.step for record in progress} >= {0, 6, 12}
    assert [meta.name for meta in list_vectors(store)] == ["fun", "movies"]
    assert len({meta.origin_id for meta in list_vectors(store)}) == 1, "same seed -> one shared origin"
    assert similarity_matrix(store).values.shape == (2, 2)
    combined = combine_vectors(store, ["movies", "fun"])

    target = train_soft_prompt(
        model,
        tokenizer,
        TARGET,
        PromptInit(kind="vectors", store_dir=str(store), vector_names=("movies", "fun")),
        n_virtual_tokens=4,
        config=CONFIG,
        model_id="tiny",
    )
    from soft_prompts.vectors import apply_vector

    torch.testing.assert_close(target.initial_prompt, apply_vector(store, combined))

    fused = train_fused_prompt(
        model,
        tokenizer,
        [MOVIES, FUN, TARGET],
        [*source_dirs, target.model.prompt.static_prompt()],
        config=CONFIG,
        model_id="tiny",
        out_dir=tmp_path / "fused",
        instance_aware=True,
    )
    assert fused.gate_matrix.shape == (3, 3)
    torch.testing.assert_close(fused.gate_matrix.sum(dim=1), torch.ones(3))
    saved = json.loads((tmp_path / "fused" / "soft_prompt.json").read_text())
    assert saved["task_names"] == ["movies", "fun", "target"] and saved["fusion"]["instance_aware"] is True
    reloaded = load_soft_prompt(tmp_path / "fused", model)
    inputs = [example.input_text for example in TARGET.dev]
    torch.testing.assert_close(
        label_probabilities(reloaded, tokenizer, inputs, LABELS, task_ids=[2, 2]),
        label_probabilities(fused.model, tokenizer, inputs, LABELS, task_ids=[2, 2]),
    )
    with pytest.raises(ValueError, match="instance-aware"):
        export_prompt_as_peft(tmp_path / "fused", tmp_path / "peft", task="target")
    adapter = export_prompt_as_peft(source_dirs[0], tmp_path / "peft_movies", base_model=model)
    torch.testing.assert_close(
        import_peft_adapter(adapter).prompt, load_soft_prompt(source_dirs[0], model).prompt.static_prompt()
    )
    with pytest.raises(ValueError, match="tuned on 'tiny'"):
        load_soft_prompt(source_dirs[0], model, model_id="other")


def test_model_directory_is_accepted(tmp_path):
    model, tokenizer = build_tiny_pair()
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    run = train_soft_prompt(
        str(tmp_path / "model"),
        None,
        MOVIES,
        PromptInit(kind="text", text="review answer"),
        n_virtual_tokens=3,
        config=TrainConfig(max_steps=2, batch_size=2, eval_every=0, use_accelerate=False),
    )
    assert run.result.steps == 2 and run.prompt_dir is None and run.vector_name is None
    with pytest.raises(ValueError, match="tokenizer is required"):
        train_soft_prompt(model, None, MOVIES)


def test_a_prompt_not_trained_past_its_start_stores_no_vector(tmp_path):
    from soft_prompts.vectors import UntrainedPromptWarning, save_vector

    model, tokenizer = build_tiny_pair()
    store = tmp_path / "store"
    trained = train_soft_prompt(
        model, tokenizer, MOVIES, n_virtual_tokens=4, config=CONFIG, model_id="tiny", vector_store=store
    )
    assert trained.result.trained_past_start and trained.vector_name == "movies"
    stale = combine_vectors(store, ["movies"], name="fun", save=False)
    save_vector(store, stale)  # an older vector under the name the next run would use
    with pytest.warns(UntrainedPromptWarning, match="'fun' was not trained past its start"):
        flat = train_soft_prompt(
            model,
            tokenizer,
            FUN,
            n_virtual_tokens=4,
            config=CONFIG,
            model_id="tiny",
            vector_store=store,
            dev_scorer=lambda prompted: 0.5,  # nothing beats the evaluation at step 0
        )
    assert flat.result.best_step == 0 and not flat.result.trained_past_start
    assert flat.vector_name is None
    assert [meta.name for meta in list_vectors(store)] == ["movies"], "the stale vector must go"
