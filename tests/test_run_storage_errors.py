"""A store that cannot be written: ``check`` refuses it when it cannot be written from the start,
and a disk that fills up during a run gives one line naming the file, with the run marked failed."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from tests.runtime_campaign import cli, cli_env, query, write_campaign


def _with_store(path, store):
    config = yaml.safe_load(path.read_text())
    config["run"]["store"] = str(store)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_check_refuses_a_store_under_a_file(tmp_path, fake_server):
    campaign = write_campaign(tmp_path, fake_server)
    (tmp_path / "taken").write_text("a file, not a folder")
    store = tmp_path / "taken" / "store.sqlite"
    _with_store(campaign, store)
    proc = cli("check", str(campaign), "--quiet", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = proc.stderr.strip()
    assert line.startswith(f"error: {campaign}:")
    assert line.endswith(
        f"run.store: {store} cannot be created: {tmp_path / 'taken'} is a file, not a folder; "
        "choose a writable place"
    )


def test_check_refuses_a_store_on_a_read_only_file_system(tmp_path, fake_server):
    campaign = write_campaign(tmp_path, fake_server)
    store = "/proc/promptfusion/store.sqlite"  # /proc takes no new files, not even root's
    _with_store(campaign, store)
    proc = cli("check", str(campaign), "--quiet", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"run.store: {store} cannot be written: /proc is not writable" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_full_disk_names_the_file_and_fails_the_run(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server)
    # ``ulimit -f`` caps the size of any file this process writes (KiB): the store's log hits it.
    command = 'ulimit -f 200; exec "$0" -m orchestrator.cli.app run "$1" --no-report'
    proc = subprocess.run(
        ["bash", "-c", command, sys.executable, str(campaign)],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    store = tmp_path / "runs" / "store.sqlite"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # Whichever of the run's files hits the limit first is named (on this campaign: the store's log).
    named = re.fullmatch(
        rf"error: ((?:run store|checkpoints|response cache) {re.escape(str(tmp_path / 'runs'))}/\S+\.sqlite: "
        r"disk I/O error \(is the disk full\?\); free space or move it elsewhere, then resume)",
        proc.stderr.strip(),
    )
    assert named, proc.stderr
    assert query(store, "SELECT status, message FROM runs") == [("failed", named.group(1))]
