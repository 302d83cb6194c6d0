"""Task files: JSONL, CSV and saved ``datasets`` directories; every error names the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.errors import DataError
from orchestrator.tasks import load_task, resolve_task


def write_jsonl(path: Path, rows) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


ROWS = [
    {"premise": "A man sleeps.", "hypothesis": "A person rests.", "label": "entailment"},
    {"premise": "A cat runs.", "hypothesis": "A dog sleeps.", "label": "neutral"},
    {"premise": "It rains.", "hypothesis": "It is dry.", "label": "contradiction"},
]


def test_jsonl_rows_become_examples_with_line_uids(tmp_path):
    path = write_jsonl(tmp_path / "nli.jsonl", [ROWS[0], "", ROWS[1], ROWS[2]])
    task = load_task(path, family="nli", instruction="Decide.")
    assert task.name == "nli" and task.family == "nli" and task.instruction == "Decide."
    assert task.input_fields == ("premise", "hypothesis")
    assert task.labels == ("contradiction", "entailment", "neutral")  # inferred, sorted
    assert [e.uid for e in task.examples] == ["nli:1", "nli:3", "nli:4"]  # blank line 2 skipped
    assert task.examples[1].inputs == {"premise": "A cat runs.", "hypothesis": "A dog sleeps."}


def test_explicit_fields_labels_and_free_form(tmp_path):
    path = write_jsonl(
        tmp_path / "qa.jsonl", [{"q": "2+2?", "a": 4, "note": "x"}, {"q": "Capital?", "a": "Paris"}]
    )
    task = load_task(path, name="arith", input_fields=["q"], label_field="a", free_form=True)
    assert task.name == "arith" and task.labels is None
    assert [e.target for e in task.examples] == ["4", "Paris"]  # numbers become text
    labelled = load_task(
        write_jsonl(tmp_path / "b.jsonl", ROWS), labels=["entailment", "neutral", "contradiction"]
    )
    assert labelled.labels == ("entailment", "neutral", "contradiction")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([ROWS[0], '{"premise": "x", '], r"bad\.jsonl:2: invalid JSON"),
        ([ROWS[0], "[1, 2]"], r"bad\.jsonl:2: expected a JSON object, got list"),
        ([ROWS[0], {"premise": "x", "label": "neutral"}], r"bad\.jsonl:2: missing field 'hypothesis'"),
        ([ROWS[0], {**ROWS[1], "premise": {"a": 1}}], r"bad\.jsonl:2: field 'premise' must be text"),
        ([ROWS[0], {**ROWS[1], "label": None}], r"bad\.jsonl:2: field 'label' must be text"),
        ([ROWS[0]], r"only one distinct label"),
    ],
)
def test_bad_jsonl_rows_name_file_and_line(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        load_task(write_jsonl(tmp_path / "bad.jsonl", lines))


def test_a_label_outside_the_label_set_names_its_line(tmp_path):
    path = write_jsonl(tmp_path / "nli.jsonl", [ROWS[0], ROWS[1], {**ROWS[2], "label": "contra"}])
    with pytest.raises(DataError, match=r"nli\.jsonl:3: label 'contra' is not one of"):
        load_task(path, labels=["entailment", "neutral", "contradiction"])


def test_too_many_distinct_answers_ask_for_free_form(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [{"input": str(i), "label": str(i)} for i in range(60)])
    with pytest.raises(DataError, match="free_form=True"):
        load_task(path)


def test_csv_with_quoted_newlines_keeps_true_line_numbers(tmp_path):
    path = tmp_path / "sentiment.csv"
    path.write_text('text,label\n"great film",positive\n"two\nlines",negative\n"boring",negative,extra\n')
    with pytest.raises(DataError, match=r"sentiment\.csv:5: expected 2 columns, got 3"):
        load_task(path)
    path.write_text('text,label\n"great film",positive\n"two\nlines",negative\n\n"boring",negative\n')
    task = load_task(path)
    assert [e.uid for e in task.examples] == ["sentiment:2", "sentiment:3", "sentiment:6"]
    assert task.examples[1].inputs["text"] == "two\nlines"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("text,text\na,b\n", "repeated column"),
        ("text,,label\na,b,c\n", "empty or repeated"),
    ],
)
def test_bad_csv_headers(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_task(path)


def test_tsv_is_read_with_tabs(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("text\tlabel\na, b\tyes\nc\tno\n")
    assert load_task(path).examples[0].inputs == {"text": "a, b"}


def test_missing_unsupported_and_non_utf8_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_task(tmp_path / "absent.jsonl")
    (tmp_path / "data.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataError, match="unsupported file type '.parquet'"):
        load_task(tmp_path / "data.parquet")
    (tmp_path / "latin.csv").write_bytes("text,label\ncaf\xe9,yes\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv: not UTF-8"):
        load_task(tmp_path / "latin.csv")


def test_saved_datasets_directory(tmp_path):
    datasets = pytest.importorskip("datasets")
    data = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(ROWS[:2]),
            "validation": datasets.Dataset.from_list(ROWS[2:]),
        }
    )
    data.save_to_disk(str(tmp_path / "nli"))
    task = load_task(tmp_path / "nli")
    assert [e.uid for e in task.examples] == ["nli[train]:0", "nli[train]:1", "nli[validation]:0"]
    assert len(load_task(tmp_path / "nli", split="train", labels=["entailment", "neutral"]).examples) == 2
    with pytest.raises(DataError, match="no split 'test'"):
        load_task(tmp_path / "nli", split="test")


def test_a_directory_without_datasets_installed_says_how_to_get_it(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets":
            raise ImportError("no datasets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    with pytest.raises(DataError, match="pip install datasets"):
        load_task(tmp_path)


def test_resolve_task_takes_a_file_or_a_builtin_name(tmp_path):
    path = write_jsonl(tmp_path / "mine.jsonl", ROWS)
    assert resolve_task(str(path)).name == "mine"
    assert resolve_task("snarks").labels == ("(a)", "(b)")
    with pytest.raises(DataError, match="did you mean 'snarks'"):
        resolve_task("snark")
