"""The built-in BIG-bench suite: enough tasks, related families, small label sets, licence kept,
compact files, and a regeneration script that reproduces them byte for byte."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestrator.errors import DataError
from orchestrator.tasks import (
    builtin_data_dir,
    builtin_families,
    builtin_task_infos,
    builtin_task_names,
    load_builtin_task,
)

DATA = Path(__file__).resolve().parents[1] / "data"
# The 358 MB BIG-bench sdist is not shipped: point BIGBENCH_SDIST at a downloaded copy
# (pip download --no-deps bigbench==1.0.0) to run the regeneration test; it writes only to tmp_path.
SDIST = Path(os.environ["BIGBENCH_SDIST"]) if os.environ.get("BIGBENCH_SDIST") else None


def test_at_least_eight_labelled_tasks_in_families_of_related_tasks():
    names = builtin_task_names()
    assert len(names) >= 8 and len(set(names)) == len(names)
    families = builtin_families()
    assert {"nli", "sentiment", "commonsense"} <= set(families)
    assert all(len(members) >= 2 for members in families.values())


@pytest.mark.parametrize("name", builtin_task_names())
def test_every_task_loads_with_a_small_shared_label_set(name):
    task = load_builtin_task(name)
    info = next(i for i in builtin_task_infos() if i.name == name)
    assert task.is_classification and 2 <= len(task.labels) <= 4
    assert len(task.examples) == info.n_examples and 50 <= len(task.examples) <= 500
    assert task.family == info.family and task.instruction and task.description
    assert {e.target for e in task.examples} == set(task.labels), "every label occurs"
    splits = task.splits(seed=0)
    assert len(splits.dev) >= 15 and len(splits.test) >= 15
    for label in task.labels:
        assert label in task.instruction, f"the seed instruction names the answer {label!r}"
    assert all(task.render_input(e).strip() for e in task.examples)


def test_nli_tasks_share_premise_and_hypothesis_fields():
    for name in ("presuppositions_as_nli", "epistemic_reasoning", "vitaminc_fact_verification"):
        assert load_builtin_task(name).input_fields == ("premise", "hypothesis")


def test_the_data_stays_small_and_keeps_licence_attribution_and_canary():
    data_dir = builtin_data_dir()
    assert data_dir == DATA / "bigbench"
    assert sum(p.stat().st_size for p in data_dir.iterdir()) < 3_000_000
    licence = (DATA / "LICENSE-bigbench").read_text()
    assert "Apache License" in licence and "Copyright 2021 Google LLC" in licence
    assert "BIG-bench" in (DATA / "README.md").read_text()
    manifest = json.loads((data_dir / "tasks.json").read_text())
    evals = [task for task in manifest["tasks"] if task["source"].startswith("OpenAI evals")]
    assert all("canary GUID" in task["canary"] for task in manifest["tasks"] if task not in evals)
    if evals:
        licence = (DATA / "LICENSE-openai-evals").read_text()
        assert "MIT License" in licence and "Copyright (c) 2023 OpenAI" in licence
        assert all(task["license"].startswith("MIT") for task in evals)
        assert "OpenAI evals" in (DATA / "README.md").read_text()


def test_unknown_names_suggest_close_ones():
    with pytest.raises(DataError, match="did you mean 'navigate'"):
        load_builtin_task("navigat")


def test_a_broken_manifest_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="manifest not found"):
        builtin_task_infos(tmp_path)
    (tmp_path / "tasks.json").write_text('{"tasks": [{"name": "x"}]}')
    with pytest.raises(DataError, match="malformed"):
        builtin_task_infos(tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(
    SDIST is None or not SDIST.is_file(), reason="set BIGBENCH_SDIST to the bigbench-1.0.0 sdist to run"
)
def test_make_builtin_reproduces_the_shipped_files(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, str(DATA / "make_builtin.py"), str(SDIST), "--out", str(tmp_path)]
    subprocess.run(command, check=True, capture_output=True)
    shipped = sorted(p.name for p in (DATA / "bigbench").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (DATA / "bigbench" / name).read_bytes(), name


def test_derived_subtasks_rebuild_byte_for_byte_from_the_shipped_files(tmp_path):
    import shutil
    import subprocess
    import sys

    shutil.copytree(DATA / "bigbench", tmp_path, dirs_exist_ok=True)
    (tmp_path / "multiemo_en_polarity.jsonl").unlink()
    command = [sys.executable, str(DATA / "make_builtin.py"), "--derived-only", "--out", str(tmp_path)]
    subprocess.run(command, check=True, capture_output=True)
    for name in ("multiemo_en_polarity.jsonl", "tasks.json"):
        assert (tmp_path / name).read_bytes() == (DATA / "bigbench" / name).read_bytes(), name


def test_multiemo_polarity_keeps_only_positive_and_negative_reviews():
    task = load_builtin_task("multiemo_en_polarity")
    parent = load_builtin_task("multiemo_en")
    assert task.labels == ("positive", "negative") and len(task.examples) == 233
    assert sum(e.target == "positive" for e in task.examples) == 128
    kept = [(parent.render_input(e), e.target) for e in parent.examples if e.target in task.labels]
    assert [(task.render_input(e), e.target) for e in task.examples] == kept
