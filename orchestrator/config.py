"""The campaign configuration: pydantic models, loaded from YAML, with errors a person can act on.

Every field has a default that works (the embedded local model on built-in tasks) and a one-line
description. Unknown keys are refused with a suggestion; every error names the file, the line and
the dotted path, e.g. ``campaign.yaml:7: models.scorer.temprature: unknown key (did you mean
'temperature'?)``. API keys are never part of the config: only the name of the environment
variable that holds them, checked at load time.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestrator.errors import ConfigError
from orchestrator.scoring.config import ScoringConfig

__all__ = [
    "BudgetConfig",
    "Campaign",
    "ModelConfig",
    "ModelsConfig",
    "ObjectiveConfig",
    "RunConfig",
    "ScoringConfig",
    "SearchConfig",
    "SoftConfig",
    "TaskConfig",
    "TasksConfig",
    "load_campaign",
    "parse_campaign",
]

EMBEDDED_MODEL = "local/smollm2-135m-instruct"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ModelConfig(_Strict):
    """One backend for one role."""

    model: str = Field(EMBEDDED_MODEL, description="Backend and model, e.g. 'openai/gpt-4o-mini'.")
    api_base: str | None = Field(None, description="Base URL of an OpenAI-/Anthropic-compatible server.")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the API key.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(256, ge=1, le=32768, description="Most tokens to generate per call.")
    concurrency: int | None = Field(
        None, ge=1, le=1024, description="Most calls in flight at once (None: 8 hosted, 64 for local/)."
    )
    rpm: int | None = Field(None, ge=1, description="Requests per minute limit (None: unlimited).")
    tpm: int | None = Field(None, ge=1, description="Tokens per minute limit (None: unlimited).")
    timeout: float | None = Field(
        None, gt=0, description="Seconds before one call times out (None: 60 hosted, 1800 for local/)."
    )
    max_retries: int = Field(5, ge=0, le=20, description="Retries of a transient failure before giving up.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Provider-specific settings (e.g. device, dtype for local/)."
    )

    @field_validator("model")
    @classmethod
    def _has_provider(cls, value: str) -> str:
        if "/" not in value or value.startswith("/") or value.endswith("/"):
            raise ValueError(
                f"{value!r} is not '<provider>/<model>' "
                "(providers: litellm, openai, anthropic, local; e.g. 'openai/gpt-4o-mini')"
            )
        return value

    @property
    def effective_timeout(self) -> float:
        # An in-process model queues work behind one worker thread; a slow CPU is not an outage.
        if self.timeout is not None:
            return self.timeout
        return 1800.0 if self.model.startswith("local/") else 60.0

    @property
    def effective_concurrency(self) -> int:
        # An in-process model batches what is in flight together: more in flight means bigger batches.
        if self.concurrency is not None:
            return self.concurrency
        return 64 if self.model.startswith("local/") else 8

    @field_validator("api_key_env")
    @classmethod
    def _looks_like_env_name(cls, value: str | None) -> str | None:
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError(
                "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), never the key itself"
            )
        return value


def _reference_default() -> ModelConfig:
    return ModelConfig(temperature=0.9, max_tokens=160)


def _scorer_default() -> ModelConfig:
    return ModelConfig(temperature=0.0, max_tokens=32)


class ModelsConfig(_Strict):
    """The LLM for each role."""

    reference: ModelConfig = Field(default_factory=_reference_default, description="Proposes prompts.")
    scorer: ModelConfig = Field(default_factory=_scorer_default, description="Runs prompts on task data.")
    judge: ModelConfig | None = Field(None, description="Scores LLM-judged dimensions (None: none judged).")


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


# Call budgets of the search presets (what a campaign may spend when budget.max_calls is not given).
PRESET_CALLS = {"light": 150, "medium": 400, "heavy": 1200}
# Rounds per stage under a preset when the campaign does not set them: the budget ends the search.
PRESET_ROUNDS = 100


class SearchConfig(_Strict):
    """The discrete search (both stages)."""

    preset: Literal["light", "medium", "heavy"] | None = Field(
        None,
        description="A call budget (light 150, medium 400, heavy 1200) for budget.max_calls when it is "
        "unset; rounds not set explicitly then run until the budget, less what the end needs, is spent.",
    )

    stage1_iterations: int = Field(3, ge=0, description="Propose-score rounds over the source tasks.")
    stage2_iterations: int = Field(3, ge=0, description="Propose-score rounds on the target task.")
    candidates_per_step: int = Field(
        4, ge=1, le=64, description="Candidates the reference LLM proposes per round."
    )
    overlap_first_round: bool = Field(
        True,
        description="Write stage 1's first candidates while the baseline prompts are being scored "
        "(one reference-LLM round trip less; those candidates see the baselines' text, not their scores).",
    )
    history_top_k: int = Field(
        20, ge=1, description="Earlier prompts shown in the meta-prompt, sorted ascending."
    )
    exemplars: int = Field(3, ge=0, description="Task examples shown in the meta-prompt.")
    reflection: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of each round's candidates written by reflective mutation (a parent from the "
        "per-example Pareto front, revised from its failing outputs) instead of fresh OPRO-style writing.",
    )
    merge: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of each round's candidates written by merging the two front members that are "
        "right on the most different examples (reflection + merge must not exceed 1).",
    )
    minibatch_size: int = Field(16, ge=1, description="Dev examples per task a candidate is scored on.")
    screen_size: int | None = Field(
        None,
        ge=1,
        description="Screen new candidates on this many minibatch examples per task first (see screen; "
        "None: 3). Racing ('interval'): only those whose accuracy interval overlaps the leader's get "
        "the rest.",
    )
    racing_confidence: float = Field(
        0.95, gt=0.0, lt=1.0, description="Two-sided confidence of the racing intervals (lower: prunes more)."
    )
    screen: Literal["auto", "off", "interval", "paired"] = Field(
        "auto",
        description="How new candidates are screened before the rest of the minibatch: 'paired' (on "
        "screen_size examples, default 3, the leader was scored on; continue only if not worse there), "
        "'interval' (racing above), 'off'; 'auto': paired when budget.max_calls scores fewer than 10 "
        "candidates fully, else interval when screen_size is set, else off.",
    )
    budget_rounds: bool | None = Field(
        None,
        description="With budget.max_calls: rounds run until the budget, less what the end needs, is spent "
        "(stage*_iterations then split exploration between the stages; patience only ends stage 1 early). "
        "None: on whenever budget.max_calls is set; false: the iteration counts cap the rounds.",
    )
    patience: int = Field(2, ge=1, description="Rounds without improvement before a stage stops.")
    target_score: float | None = Field(None, description="Stop a stage once the objective reaches this.")
    promote_top_k: int = Field(3, ge=1, description="Source prompts carried into stage 2.")
    finalists: int = Field(
        3, ge=1, description="Best candidates confirmed on the dev examples outside the minibatch."
    )
    max_prompt_chars: int = Field(1200, ge=20, description="Longer candidates are rejected.")
    baseline_prompts: list[str] = Field(
        default_factory=lambda: ["Answer the question."],
        min_length=1,
        description="Starting prompts, scored first.",
    )

    demos: int = Field(
        0,
        ge=0,
        le=16,
        description="Demonstrations searched jointly with the instruction: each round one candidate is the "
        "best instruction plus this many train examples it answers right (0: none).",
    )

    @model_validator(mode="after")
    def _operator_shares(self) -> SearchConfig:
        if self.reflection + self.merge > 1.0:
            raise ValueError(f"reflection + merge is {self.reflection + self.merge:g}; it must not exceed 1")
        return self


class ObjectiveConfig(_Strict):
    """How candidates are scored and accepted."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {"balanced_accuracy": 1.0, "ece": 0.25},
        description="Weight per dimension in the weighted objective (dimensions normalised to [0, 1]).",
    )
    acceptance: Literal["weighted", "pareto", "lexicographic"] = Field(
        "weighted", description="Which candidates enter the pool of parents."
    )
    lexicographic_order: list[str] = Field(
        default_factory=lambda: ["balanced_accuracy", "ece"],
        description="Dimension order for 'lexicographic'.",
    )
    judge_dimensions: list[str] = Field(
        default_factory=list, description="LLM-judged dimensions (needs models.judge)."
    )


class BudgetConfig(_Strict):
    """Hard limits; the run stops cleanly, resumable, with the best prompt so far, when one is reached.
    The search keeps the calls its end needs (finalists' confirmation, held-out test) out of
    exploration, so a call budget normally ends the run ``done`` with a tested winner."""

    max_calls: int | None = Field(None, ge=1, description="Most LLM calls (cache hits are free).")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens, prompt plus completion.")
    max_usd: float | None = Field(None, gt=0, description="Most spend in US dollars.")
    allow_unpriced: bool = Field(
        False, description="Allow max_usd with a model of unknown price (its calls count as $0)."
    )
    max_seconds: float | None = Field(None, gt=0, description="Wall-clock limit of one run or resume.")
    stop_file: str | None = Field(None, description="Stop the run once this file exists.")


class SoftConfig(_Strict):
    """The soft-prompt stage after the discrete search (local models only)."""

    enabled: bool = Field(False, description="Run the soft-prompt stage after stage 2.")
    model: str | None = Field(None, description="Local twin of the scorer (default: the scorer if local/).")
    n_virtual_tokens: int = Field(8, ge=1, le=512, description="Soft prompt length.")
    steps: int = Field(30, ge=1, description="Training steps per prompt.")
    batch_size: int = Field(8, ge=1, description="Examples per step.")
    learning_rate: float = Field(3e-2, gt=0, description="Learning rate of the prompt parameters.")
    fusion_steps: int | None = Field(None, ge=1, description="Steps of the gated fusion (None: steps).")
    gate_temperature: float = Field(1.0, gt=0, description="Softmax temperature of the fusion gate.")
    train_examples: int = Field(32, ge=1, description="Training examples per task (few-shot).")
    dev_examples: int = Field(16, ge=1, description="Dev examples per task for curves and early stopping.")
    eval_every: int = Field(10, ge=0, description="Steps between dev evaluations (0: none).")


class RunConfig(_Strict):
    """Where results go and how the run is seeded."""

    store: str = Field("runs/promptfusion.sqlite", description="SQLite run store (relative to the cwd).")
    cache: str = Field("runs/llm-cache.sqlite", description="SQLite response cache (relative to the cwd).")
    seed: int = Field(0, description="Seeds splits, sampling and every random choice.")


class Campaign(_Strict):
    """A whole optimization campaign."""

    name: str = Field("campaign", description="Shown in run listings and reports.")
    models: ModelsConfig = Field(default_factory=ModelsConfig, description="LLM per role.")
    tasks: TasksConfig = Field(default_factory=TasksConfig, description="Source and target tasks.")
    search: SearchConfig = Field(default_factory=SearchConfig, description="Search settings.")
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig, description="Scoring settings.")
    scoring: ScoringConfig = Field(
        default_factory=ScoringConfig, description="How the scorer's answers become scores."
    )
    budget: BudgetConfig = Field(default_factory=BudgetConfig, description="Hard limits.")
    soft: SoftConfig = Field(default_factory=SoftConfig, description="Soft-prompt stage.")
    run: RunConfig = Field(default_factory=RunConfig, description="Store and seed.")

    @model_validator(mode="after")
    def _apply_preset(self) -> Campaign:
        preset = self.search.preset
        if preset is None:
            return self
        if self.budget.max_calls is None:
            self.budget.max_calls = PRESET_CALLS[preset]
        for rounds in ("stage1_iterations", "stage2_iterations"):
            if rounds not in self.search.model_fields_set:
                setattr(self.search, rounds, PRESET_ROUNDS)
        return self

    @model_validator(mode="after")
    def _judge_needed(self) -> Campaign:
        if self.objective.judge_dimensions and self.models.judge is None:
            raise ValueError("objective.judge_dimensions needs a models.judge backend")
        return self

    def resolved(self) -> dict[str, Any]:
        """The config as saved with each run: every default filled in, no secrets (keys are env names)."""
        return self.model_dump(mode="json")


# ---------------------------------------------------------------------------------------------
# Loading and error messages
# ---------------------------------------------------------------------------------------------
def load_campaign(
    path: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    *,
    allow_unpriced: bool | None = None,
) -> Campaign:
    """Read and validate a campaign YAML file, everything a run would refuse included, before any call.

    Args:
        path: the YAML file.
        env: environment to check ``api_key_env`` names against (default ``os.environ``).
        allow_unpriced: set ``budget.allow_unpriced`` (None: as the file says).

    Returns:
        The validated campaign; task file paths are made absolute (they are relative to the campaign file).

    Raises:
        ConfigError: unreadable file, bad YAML, duplicate or unknown key, wrong type, missing
            environment variable, anything ``orchestrator.validation.check_campaign`` refuses.

    Warns:
        DataWarning: duplicate task inputs were dropped (the count and an example line).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read campaign file ({exc.strerror or exc})") from None
    return parse_campaign(
        text, source=str(file), env=env, base_dir=str(file.resolve().parent), allow_unpriced=allow_unpriced
    )


def parse_campaign(
    text: str,
    *,
    source: str = "<string>",
    env: Mapping[str, str] | None = None,
    base_dir: str = ".",
    allow_unpriced: bool | None = None,
) -> Campaign:
    """Validate campaign YAML given as text. See ``load_campaign``."""
    from orchestrator.validation import Location, check_campaign, check_duplicate_keys

    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    check_duplicate_keys(root, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections, not {type(data).__name__}")
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(_describe(first, source, root)) from None
    if allow_unpriced is not None:
        budget = campaign.budget.model_copy(update={"allow_unpriced": allow_unpriced})
        campaign = campaign.model_copy(update={"budget": budget})
    environ = os.environ if env is None else env
    _check_environment(campaign, source, root, environ)
    _check_scoring(campaign, source, root)
    campaign = _absolute_task_paths(campaign, Path(base_dir))
    check_campaign(campaign, Location(source, root), environ)
    return campaign


def _absolute_task_paths(campaign: Campaign, base_dir: Path) -> Campaign:
    # Saved configs must resume from anywhere, so relative task files are pinned to the campaign's folder.
    def fix(task: TaskConfig) -> TaskConfig:
        if task.path and not Path(task.path).expanduser().is_absolute():
            return task.model_copy(update={"path": str((base_dir / task.path).resolve())})
        return task

    tasks = campaign.tasks.model_copy(
        update={"source": [fix(t) for t in campaign.tasks.source], "target": fix(campaign.tasks.target)}
    )
    return campaign.model_copy(update={"tasks": tasks})


def _check_environment(campaign: Campaign, source: str, root: Any, env: Mapping[str, str]) -> None:
    for role in ("reference", "scorer", "judge"):
        cfg = getattr(campaign.models, role)
        if cfg is not None and cfg.api_key_env and not env.get(cfg.api_key_env):
            loc = ("models", role, "api_key_env")
            raise ConfigError(
                f"{_where(source, root, loc)}: {'.'.join(loc)}: environment variable "
                f"{cfg.api_key_env} is not set"
            )


def _check_scoring(campaign: Campaign, source: str, root: Any) -> None:
    from orchestrator.scoring.capability import load_time_problem

    problem = load_time_problem(campaign.scoring, campaign.models.scorer.model)
    if problem:
        raise ConfigError(f"{_where(source, root, ('scoring', 'mode'))}: scoring.mode: {problem}")


def _describe(error: Mapping[str, Any], source: str, root: Any) -> str:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    path = _dotted(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if key in ("api_key", "key", "apikey", "openai_api_key", "anthropic_api_key"):
            message = (
                "API keys never go in the campaign file: "
                "put the key in an environment variable and name it in api_key_env"
            )
        else:
            message = "unknown key" + _suggestion(key, _known_keys(loc[:-1]))
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if "input" in error and kind not in ("value_error",) and not isinstance(error["input"], (dict, list)):
            message += f" (got {error['input']!r})"
    prefix = _where(source, root, loc)
    return f"{prefix}: {path}: {message}" if path else f"{prefix}: {message}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _suggestion(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys: {', '.join(sorted(known))})" if known else ""


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` (walking the Campaign schema)."""
    model: Any = Campaign
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _where(source: str, root: Any, loc: tuple[Any, ...]) -> str:
    """``file:line`` of the deepest YAML node along ``loc`` that exists."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    for part in loc:
        if node is None:
            break
        node, key_line = _child(node, part)
        if key_line is not None:
            line = key_line
    return f"{source}:{line}" if line else source


def _child(node: Any, part: Any) -> tuple[Any, int | None]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value, key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None, None
