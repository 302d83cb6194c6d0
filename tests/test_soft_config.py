"""Config validation errors name the field; the package imports without torch; data validation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from soft_prompts.config import FusionConfig, PromptInit, TrainConfig


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PromptInit(kind="txt"), "PromptInit.kind: must be one of"),
        (lambda: PromptInit(kind="text"), "PromptInit.text: is required"),
        (lambda: PromptInit(kind="stored"), "PromptInit.path: is required"),
        (lambda: PromptInit(kind="vectors", store_dir="s"), "PromptInit.vector_names: needs at least one"),
        (
            lambda: PromptInit(kind="vectors", store_dir="s", vector_names=("a", "b"), weights=(1.0,)),
            "PromptInit.weights: has 1 entries for 2 vectors",
        ),
        (lambda: PromptInit(merge="mean"), "PromptInit.merge: must be one of"),
        (
            lambda: FusionConfig(num_tasks=0, pool_size=2, n_virtual_tokens=3, token_dim=4),
            "FusionConfig.num_tasks",
        ),
        (
            lambda: FusionConfig(num_tasks=1, pool_size=2, n_virtual_tokens=3, token_dim=4, temperature=0.0),
            "FusionConfig.temperature: must be a positive finite number",
        ),
        (lambda: TrainConfig(max_steps=0), "TrainConfig.max_steps: must be a positive integer"),
        (lambda: TrainConfig(batch_size=2.5), "TrainConfig.batch_size"),
        (lambda: TrainConfig(learning_rate=float("nan")), "TrainConfig.learning_rate"),
        (lambda: TrainConfig(patience=0), "TrainConfig.patience"),
        (lambda: TrainConfig(eval_every=-1), "TrainConfig.eval_every"),
        (lambda: TrainConfig(loss_weighting="gradnorm"), "TrainConfig.loss_weighting: must be one of"),
        (lambda: TrainConfig(grad_clip=0.0), "TrainConfig.grad_clip"),
    ],
)
def test_invalid_configs_name_the_field(build, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_defaults_are_valid_and_frozen():
    config = TrainConfig()
    with pytest.raises(AttributeError):
        config.max_steps = 3  # type: ignore[misc]
    assert PromptInit().kind == "random"


def test_task_data_validation():
    from soft_prompts.data import PromptExample, TaskData

    with pytest.raises(ValueError, match=r"TaskData\[t\]\.dev\[0\]\.target_text: ' maybe' is not in labels"):
        TaskData("t", (PromptExample("x", " yes"),), (PromptExample("x", " maybe"),), labels=(" yes", " no"))
    with pytest.raises(ValueError, match="needs at least one example"):
        TaskData("t", ())
    with pytest.raises(ValueError, match="needs >= 2 distinct labels"):
        TaskData("t", (PromptExample("x", " yes"),), labels=(" yes", " yes"))
    task = TaskData("t", [PromptExample("x", " no")], [PromptExample("y", " yes")], labels=[" yes", " no"])
    assert task.label_index("train") == [1] and task.label_index("dev") == [0]


def test_importing_the_package_does_not_import_torch():
    code = "import soft_prompts, sys; print('torch' in sys.modules, 'transformers' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.split() == ["False", "False"]
    code = "import soft_prompts; soft_prompts.nothing"
    failed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "has no attribute 'nothing'" in failed.stderr
