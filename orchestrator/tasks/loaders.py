"""Load a task from a JSONL file, a CSV file or a ``datasets`` directory saved with ``save_to_disk``.

Every error names the file and the line (or row) at fault.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from orchestrator.errors import DataError
from orchestrator.tasks.task import Example, Task

__all__ = ["MAX_INFERRED_LABELS", "load_task", "read_rows"]

# More distinct answers than this and the task is almost surely free-form, not classification.
MAX_INFERRED_LABELS = 50


def load_task(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    input_fields: Sequence[str] | None = None,
    label_field: str = "label",
    labels: Sequence[str] | None = None,
    free_form: bool = False,
    split: str | None = None,
    max_example_chars: int | None = None,
    **task_fields: Any,
) -> Task:
    """Read a task file into a ``Task``.

    Args:
        path: a ``.jsonl`` file (one JSON object a line), a ``.csv`` file with a header row, or a
            directory written by ``datasets.Dataset.save_to_disk`` (needs the ``datasets`` package).
        name: the task name; default the file's stem.
        input_fields: the input columns; default every column except ``label_field``, in file order.
        label_field: the column holding the label or reference answer.
        labels: the label set; default the distinct labels found (sorted), unless ``free_form``.
        free_form: the answers are free text, not a label set.
        split: for a saved ``DatasetDict``, the split to read; default all splits, in order.
        max_example_chars: refuse a row whose inputs and answer together are longer (None: no limit).
        **task_fields: other ``Task`` fields (``description``, ``instruction``, ``family``,
            ``metrics``, ``split_fractions``).

    Returns:
        The task, with one ``Example`` per row (uid ``name:line``).

    Raises:
        DataError: a missing or unreadable file, a malformed row, a missing field, a non-text value,
            a label outside ``labels``, labels that differ only in case or spaces, or a row over
            ``max_example_chars``; the message starts with ``file:line:``.
    """
    source = Path(path)
    task_name = name or source.stem
    rows = list(read_rows(source, split=split))
    if not rows:
        raise DataError(f"{source}: no rows")
    fields = list(input_fields) if input_fields else [k for k in rows[0][1] if k != label_field]
    if not fields:
        raise DataError(f"{source}: no input columns besides the label column {label_field!r}")
    examples = []
    for where, row in rows:
        for column in [*fields, label_field]:
            if column not in row:
                raise DataError(f"{where}: missing field {column!r} (fields present: {sorted(row)})")
        inputs = {column: _text(row[column], column, where) for column in fields}
        if max_example_chars is not None:
            size = sum(map(len, inputs.values())) + len(_text(row[label_field], label_field, where))
            if size > max_example_chars:
                raise DataError(
                    f"{where}: example is {size} characters, over the limit of {max_example_chars} "
                    "(tasks.max_example_chars): shorten or remove it, or raise the limit"
                )
        uid = task_name + where[len(str(source)) :]  # "name:12", or "name[train]:3" for a DatasetDict
        examples.append(Example(uid, inputs, _text(row[label_field], label_field, where)))
    label_set = None if free_form else _label_set(labels, examples, rows, source)
    try:
        return Task(
            name=task_name,
            examples=tuple(examples),
            input_fields=tuple(fields),
            label_field=label_field,
            labels=label_set,
            source=str(source),
            **task_fields,
        )
    except (TypeError, ValueError) as error:
        raise DataError(f"{source}: {error}") from error


def read_rows(path: Path, *, split: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("file:line", row)`` for every row of a JSONL or CSV file or a ``datasets`` directory.

    Raises:
        DataError: the file is missing, unreadable or malformed.
    """
    if path.is_dir():
        yield from _read_saved_dataset(path, split)
        return
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(path)
        elif suffix in (".csv", ".tsv"):
            yield from _read_csv(path, delimiter="\t" if suffix == ".tsv" else ",")
        else:
            raise DataError(
                f"{path}: unsupported file type {suffix!r}; use .jsonl, .csv or a dataset directory"
            )
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error


def _read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as handle:  # a BOM is accepted, as in CSV
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{where}: invalid JSON ({error.msg} at column {error.colno})") from error
            if not isinstance(row, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield where, row


def _read_csv(path: Path, delimiter: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{path}: empty file, expected a header row") from None
        if len(set(header)) != len(header) or not all(header):
            raise DataError(f"{path}:1: header has empty or repeated column names: {header}")
        start = reader.line_num + 1
        for values in reader:
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if not values:
                continue
            if len(values) != len(header):
                raise DataError(f"{where}: expected {len(header)} columns, got {len(values)}")
            yield where, dict(zip(header, values, strict=True))


def _read_saved_dataset(path: Path, split: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        import datasets
    except ImportError:
        raise DataError(f"{path}: reading a saved dataset directory needs: pip install datasets") from None
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as error:
        raise DataError(f"{path}: not a dataset saved with save_to_disk ({error})") from error
    if isinstance(loaded, datasets.DatasetDict):
        if split is not None and split not in loaded:
            raise DataError(f"{path}: no split {split!r}; splits: {list(loaded)}")
        parts = [(split, loaded[split])] if split else list(loaded.items())
    else:
        parts = [(None, loaded)]
    for part_name, dataset in parts:
        prefix = f"{path}[{part_name}]" if part_name else str(path)
        for index, row in enumerate(dataset):
            yield f"{prefix}:{index}", dict(row)


def _label_form(label: str) -> str:
    """How two spellings of one label compare: case and runs of spaces ignored."""
    return " ".join(label.split()).casefold()


def _text(value: Any, column: str, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise DataError(f"{where}: field {column!r} must be text or a number, got {type(value).__name__}")


def _label_set(
    labels: Sequence[str] | None, examples: Sequence[Example], rows: Sequence[tuple[str, Any]], source: Path
) -> tuple[str, ...]:
    if labels is not None:
        allowed = set(labels)
        by_form = {_label_form(label): label for label in labels}
        for example, (where, _) in zip(examples, rows, strict=True):
            if example.target not in allowed:
                near = by_form.get(_label_form(example.target))
                hint = f" (it differs from {near!r} only in case or spaces)" if near is not None else ""
                raise DataError(f"{where}: label {example.target!r} is not one of {list(labels)}{hint}")
        return tuple(labels)
    first_seen: dict[str, tuple[str, str]] = {}
    for example, (where, _) in zip(examples, rows, strict=True):
        form = _label_form(example.target)
        label, first_where = first_seen.setdefault(form, (example.target, where))
        if label != example.target:
            raise DataError(
                f"{where}: label {example.target!r} differs from label {label!r} ({first_where}) only in "
                "case or spaces; write them the same way (or give the task's labels)"
            )
    found = sorted({example.target for example in examples})
    if len(found) > MAX_INFERRED_LABELS:
        raise DataError(
            f"{source}: {len(found)} distinct labels; pass labels=... or free_form=True for free-text answers"
        )
    if len(found) < 2:
        raise DataError(f"{source}: only one distinct label {found}; a classification task needs two or more")
    return tuple(found)
