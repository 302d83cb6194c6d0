"""Issue 22 item 13: the live display's last frame of a real run (the CLI against the loopback
simulated LLM): calls sent against the budget apart from cache hits, and a finished run's progress
complete even when a stage stopped before its planned rounds."""

from __future__ import annotations

import re

from tests.runtime_campaign import cli, lines, write_campaign


def _row(stdout: str, name: str) -> str:
    return next(line for line in reversed(lines(stdout)) if line.startswith(f"{name} "))


def test_a_finished_run_ends_complete_and_counts_cache_hits_apart_from_the_budget(tmp_path, sim_server):
    search = {"stage1_iterations": 6, "stage2_iterations": 6, "patience": 1}
    campaign = write_campaign(tmp_path, sim_server, search=search, budget={"max_calls": 400})
    first = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    # Patience ended the stages early: the total shrank to the steps run, and all are done.
    done, total = map(int, re.search(r"(\d+)/(\d+) steps", _row(first.stdout, "progress")).groups())
    assert done == total < 2 + 6 + 6 + 2
    again = cli("run", str(campaign), "--no-report", cwd=tmp_path)  # a second run: cache hits
    assert again.returncode == 0, again.stdout + again.stderr
    calls = _row(again.stdout, "calls")
    sent, hits, used = map(
        int,
        re.search(
            r"(\d+) sent, .* (\d+) answered from the cache \(free\)\s+budget: calls (\d+) of 400", calls
        ).groups(),
    )
    assert hits > 0 and used == sent <= 400
