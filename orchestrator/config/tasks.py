"""The source tasks (stage 1) and the target task (stage 2)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from orchestrator.config.strict import _Strict


class TaskConfig(_Strict):
    """A task: a built-in name alone, or a file of examples with its fields."""

    name: str = Field(..., description="Built-in task name, or a name for the task in `path`.")
    path: str | None = Field(None, description="JSONL/CSV file (relative to the campaign file).")
    description: str | None = Field(None, description="What the task asks; shown to the reference LLM.")
    input_fields: list[str] | None = Field(
        None, description="Input fields (None: every field but the target)."
    )
    target_field: str = Field("label", description="Field holding the reference answer.")
    labels: list[str] | None = Field(None, description="Closed label set (None: the distinct targets found).")
    free_form: bool = Field(False, description="Answers are free text (exact match), not a label set.")
    family: str | None = Field(None, description="Group of related tasks, for reports.")
    max_examples: int | None = Field(None, ge=1, description="Sample at most this many examples.")
    split: tuple[float, float, float] | None = Field(
        None,
        description="Train/dev/test fractions of the examples, summing to 1 (None: the task's own, "
        "0.5/0.25/0.25); a larger test share buys held-out verdicts on a small task.",
    )

    @field_validator("split")
    @classmethod
    def _split_sums_to_one(cls, value: tuple[float, float, float] | None) -> Any:
        if value is not None and (any(f < 0 for f in value) or abs(sum(value) - 1.0) > 1e-6):
            raise ValueError(f"the three fractions must be >= 0 and sum to 1, got {list(value)}")
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_are_text(cls, value: Any) -> Any:
        # YAML reads unquoted yes/no/on/off/true/false as booleans: the commonest label set of all.
        if isinstance(value, list) and any(isinstance(label, bool) for label in value):
            raise ValueError("YAML reads unquoted yes/no/true/false as booleans: quote the labels ('yes')")
        return value


class TasksConfig(_Strict):
    """Source tasks (stage 1) and the target task (stage 2)."""

    source: list[TaskConfig] = Field(
        default_factory=lambda: [
            TaskConfig(name="presuppositions_as_nli"),
            TaskConfig(name="analytic_entailment"),
        ],
        min_length=1,
        description="Tasks the stage-1 prompts must generalise over.",
    )
    target: TaskConfig = Field(
        default_factory=lambda: TaskConfig(name="epistemic_reasoning"),
        description="The task stage 2 refines prompts for.",
    )
    dev_size: int = Field(40, ge=2, description="Examples per task in the dev split.")
    test_size: int = Field(60, ge=2, description="Examples per task in the held-out test split.")
    max_example_chars: int = Field(
        20_000, ge=1, description="Longest example (inputs and answer, characters; ~4 per token) allowed."
    )

    @model_validator(mode="before")
    @classmethod
    def _names_as_tasks(cls, data: Any) -> Any:
        # Let users write `source: [a, b]` and `target: c` for built-in tasks.
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("source"), list):
                data["source"] = [{"name": t} if isinstance(t, str) else t for t in data["source"]]
            if isinstance(data.get("target"), str):
                data["target"] = {"name": data["target"]}
        return data
