"""The Task: validation, rendering, and seeded stratified splits."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.tasks import Example, Task


def make_task(n_per_label=(20, 10), labels=("yes", "no"), **kwargs) -> Task:
    examples = []
    for label, count in zip(labels, n_per_label, strict=True):
        examples += [Example(f"t:{label}{i}", {"input": f"{label} {i}"}, label) for i in range(count)]
    return Task(name="t", examples=tuple(examples), labels=labels, **kwargs)


def test_splits_partition_the_examples():
    task = make_task()
    splits = task.splits(seed=3)
    uids = [e.uid for part in (splits.train, splits.dev, splits.test) for e in part]
    assert sorted(uids) == sorted(e.uid for e in task.examples)
    assert (len(splits.train), len(splits.dev), len(splits.test)) == (15, 8, 7)


def test_splits_are_reproducible_and_seed_dependent():
    task = make_task()
    assert task.splits(seed=1) == task.splits(seed=1)
    assert task.splits(seed=1).dev != task.splits(seed=2).dev
    assert task.split("dev", seed=1) == task.splits(seed=1).dev


def test_classification_splits_keep_the_label_mix():
    task = make_task(n_per_label=(40, 20))
    for part in task.splits(seed=0).train, task.splits(seed=0).test:
        counts = Counter(e.target for e in part)
        assert counts["yes"] == 2 * counts["no"]


def test_tiny_tasks_still_get_every_split():
    task = make_task(n_per_label=(2, 1))
    splits = task.splits()
    assert all(len(part) >= 1 for part in (splits.train, splits.dev, splits.test))


def test_unknown_split_names_are_rejected():
    with pytest.raises(KeyError, match="unknown split 'validation'"):
        make_task().split("validation")


@settings(max_examples=50)
@given(
    st.lists(st.integers(1, 30), min_size=2, max_size=4),
    st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(1, 10)),
    st.integers(0, 1000),
)
def test_any_fractions_give_disjoint_complete_splits(counts, weights, seed):
    labels = tuple(f"l{i}" for i in range(len(counts)))
    fractions = tuple(w / sum(weights) for w in weights)
    task = make_task(n_per_label=tuple(counts), labels=labels, split_fractions=fractions)
    splits = task.splits(seed)
    uids = [e.uid for part in (splits.train, splits.dev, splits.test) for e in part]
    assert len(uids) == len(set(uids)) == sum(counts)


def test_render_input_one_field_is_the_text_alone():
    task = make_task()
    assert task.render_input(task.examples[0]) == "yes 0"


def test_render_input_several_fields_are_labelled_lines():
    example = Example("x:1", {"premise": "A man sleeps.", "hypothesis_text": "A person rests."}, "entailment")
    task = Task(
        name="x",
        examples=(example, Example("x:2", {"premise": "p", "hypothesis_text": "h"}, "neutral")),
        input_fields=("premise", "hypothesis_text"),
        labels=("entailment", "neutral"),
    )
    assert task.render_input(example) == "Premise: A man sleeps.\nHypothesis text: A person rests."
    assert task.is_classification


def test_free_form_tasks_have_no_labels():
    task = Task(name="qa", examples=(Example("qa:1", {"input": "2+2?"}, "4"),))
    assert not task.is_classification and task.metrics is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "needs a name"),
        ({"labels": ("yes",)}, "needs >= 2 distinct labels"),
        ({"labels": ("yes", "yes")}, "needs >= 2 distinct labels"),
        ({"input_fields": ()}, "at least one input field"),
        ({"split_fractions": (0.5, 0.5, 0.5)}, "summing to 1"),
        ({"split_fractions": (1.5, -0.25, -0.25)}, ">= 0"),
        ({"input_fields": ("premise",)}, r"example t:1 lacks input field\(s\) \['premise'\]"),
        ({"labels": ("no", "maybe")}, "example t:1 has label 'yes', not in"),
    ],
)
def test_invalid_tasks_name_the_problem(kwargs, message):
    fields = {
        "name": "t",
        "examples": (Example("t:1", {"input": "a"}, "yes"), Example("t:2", {"input": "b"}, "no")),
        "labels": ("yes", "no"),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        Task(**fields)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["yes", "no"])), min_size=1, max_size=40))
def test_duplicate_inputs_are_dropped_keeping_the_first_and_no_test_input_is_seen_in_training(rows):
    examples = tuple(
        Example(f"t:{line}", {"input": f"text {key}"}, label) for line, (key, label) in enumerate(rows)
    )
    task = Task(name="t", examples=examples, labels=("yes", "no")).without_duplicate_inputs()
    first = {}
    for example in examples:
        first.setdefault(example.inputs["input"], example)
    assert task.examples == tuple(first.values())
    assert len(task.dropped_duplicates) == len(examples) - len(first)
    assert all(
        first[examples[int(d.split(":")[1])].inputs["input"]].uid == k for d, k in task.dropped_duplicates
    )
    splits = task.splits(seed=1)
    train_inputs = {e.inputs["input"] for e in splits.train + splits.dev}
    assert not any(e.inputs["input"] in train_inputs for e in splits.test)
