"""Reading a campaign file: YAML parsed, validated, environment and scoring checked, task paths pinned."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from orchestrator.config.campaign import Campaign
from orchestrator.config.messages import _describe, _where
from orchestrator.config.tasks import TaskConfig
from orchestrator.errors import ConfigError
from orchestrator.store_location import store_path

if TYPE_CHECKING:
    from orchestrator.tasks.task import Task


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
    return load_campaign_and_tasks(path, env, allow_unpriced=allow_unpriced)[0]


def load_campaign_and_tasks(
    path: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    *,
    allow_unpriced: bool | None = None,
) -> tuple[Campaign, dict[str, Task]]:
    """``load_campaign``, and the tasks its validation loaded (name -> task), so that a caller
    needing the data (the ``--dry-run`` estimate) does not read the task files a second time."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read campaign file ({exc.strerror or exc})") from None
    return _parse(text, str(file), env, str(file.resolve().parent), allow_unpriced)


def parse_campaign(
    text: str,
    *,
    source: str = "<string>",
    env: Mapping[str, str] | None = None,
    base_dir: str = ".",
    allow_unpriced: bool | None = None,
) -> Campaign:
    """Validate campaign YAML given as text. See ``load_campaign``."""
    return _parse(text, source, env, base_dir, allow_unpriced)[0]


def _parse(
    text: str, source: str, env: Mapping[str, str] | None, base_dir: str, allow_unpriced: bool | None
) -> tuple[Campaign, dict[str, Task]]:
    from orchestrator.validation import Location, check_campaign, check_duplicate_keys
    from orchestrator.validation.reach import resolve_budget

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
    if "store" not in campaign.run.model_fields_set:
        run = campaign.run.model_copy(update={"store": str(store_path(None, environ))})
        campaign = campaign.model_copy(update={"run": run})
    _check_environment(campaign, source, root, environ)
    _check_scoring(campaign, source, root)
    campaign = _absolute_task_paths(campaign, Path(base_dir))
    where = Location(source, root)
    tasks = check_campaign(campaign, where, environ)
    return resolve_budget(campaign, tasks, where), tasks


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
