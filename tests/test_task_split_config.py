"""``tasks.*.split``: a campaign chooses a task's train/dev/test fractions (a larger held-out test on a
small task); a bad triple is refused at load with the field's path."""

from __future__ import annotations

import pytest

from orchestrator.config import TaskConfig
from orchestrator.errors import ConfigError
from orchestrator.loading import parse_campaign
from orchestrator.tasks.resolve import load_configured_task


def test_split_sets_the_fractions_of_a_builtin_task():
    default = load_configured_task(TaskConfig(name="multiemo_en_polarity"))
    chosen = load_configured_task(TaskConfig(name="multiemo_en_polarity", split=(0.2, 0.15, 0.65)))
    n = len(chosen.examples)
    assert len(default.split("test", 0)) == pytest.approx(0.25 * n, abs=2)
    assert len(chosen.split("test", 0)) == pytest.approx(0.65 * n, abs=2)
    assert len(chosen.split("train", 0)) == pytest.approx(0.2 * n, abs=2)
    # The three splits still partition the examples: nothing of the test split is trained on.
    parts = [{e.uid for e in chosen.split(name, 0)} for name in ("train", "dev", "test")]
    assert sum(map(len, parts)) == n and not (parts[0] & parts[2]) and not (parts[1] & parts[2])


@pytest.mark.parametrize("split", ["[0.5, 0.5, 0.5]", "[-0.1, 0.6, 0.5]"])
def test_a_split_that_is_not_fractions_is_refused_at_load(split):
    with pytest.raises(ConfigError, match=r"tasks\.target\.split.*sum to 1"):
        parse_campaign(f"tasks:\n  target: {{name: multiemo_en_polarity, split: {split}}}\n", env={})
