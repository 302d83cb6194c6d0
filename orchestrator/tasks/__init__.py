"""Tasks: labelled examples with seeded splits, file loaders, and the built-in BIG-bench suite."""

from orchestrator.tasks.builtin import (
    BuiltinTaskInfo,
    builtin_data_dir,
    builtin_families,
    builtin_task_infos,
    builtin_task_names,
    load_builtin_task,
    resolve_task,
)
from orchestrator.tasks.loaders import load_task, read_rows
from orchestrator.tasks.task import SPLIT_NAMES, Example, Task, TaskSplits

__all__ = [
    "SPLIT_NAMES",
    "BuiltinTaskInfo",
    "Example",
    "Task",
    "TaskSplits",
    "builtin_data_dir",
    "builtin_families",
    "builtin_task_infos",
    "builtin_task_names",
    "load_builtin_task",
    "load_task",
    "read_rows",
    "resolve_task",
]
