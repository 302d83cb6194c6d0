"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` package) opens it with no
console messages, its live DOM holds every plot as SVG, and a screenshot shows them drawn.

Chromium is required, not optional: CI installs it. Without it these tests fail with the command
that installs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from orchestrator.report import build_report
from orchestrator.report.colors import DIVERGING, SEQUENTIAL
from orchestrator.store import RunStore
from tests.test_report_data import run_sim_campaign, with_soft
from tests.test_report_render import DISCRETE_PLOTS, SOFT_PLOTS, parse

INSTALL = "apt-get update && apt-get install -y chromium"
WINDOW = (1280, 4000)
# Colours only the plots use (page chrome is grey and one accent blue), with the marks drawing them.
PLOT_COLOURS = {
    "#e15759": "best-so-far lines and the spend line",
    "#59a14f": "cache-hit curve and promoted candidates",
    "#b07aa1": "token curve",
    "#f28e2b": "soft-prompt rows of the comparison and stage-2 Pareto points",
    SEQUENTIAL(0.85): "gate heatmap cell of weight 0.85",
    DIVERGING(1.0): "similarity heatmap diagonal",
}


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "headless Chromium is needed for the report's browser tests and is not on PATH;"
        f" install it with: {INSTALL}"
    )


def open_in_chromium(page: Path, profile: Path, *action: str) -> subprocess.CompletedProcess:
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *action,
        page.as_uri(),
    ]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within 120 s: {' '.join(args)}")


def console_messages(stderr: str) -> list[str]:
    """Lines where the page wrote to the console (errors, CSP refusals, uncaught exceptions)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def distinct_colours(image: np.ndarray) -> int:
    packed = (image[..., 0].astype(np.uint32) << 16) | (image[..., 1].astype(np.uint32) << 8) | image[..., 2]
    return len(np.unique(packed))


def pixels_near(image: np.ndarray, hex_colour: str, tolerance: int = 6) -> int:
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    return int((np.abs(image.astype(np.int16) - target).max(axis=2) <= tolerance).sum())


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, fake_server_session) -> Path:
    folder = tmp_path_factory.mktemp("report-browser")
    fake_server_session.reset()
    try:
        run = run_sim_campaign(folder / "run", fake_server_session)
    finally:
        fake_server_session.reset()
    run = with_soft(run, folder / "soft")
    store = RunStore(run.store)
    page = folder / "report.html"
    page.write_text(build_report(store, run.run_id, environ={}), encoding="utf-8")
    store.close()
    return page


def test_the_console_check_catches_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>missingFunction();</script></body></html>")
    opened = open_in_chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console_messages(opened.stderr)), opened.stderr


def test_report_opens_with_no_console_messages_and_every_plot_in_the_dom(report_page, tmp_path):
    opened = open_in_chromium(report_page, tmp_path / "profile", "--dump-dom")
    assert opened.returncode == 0, opened.stderr[-2000:]
    assert console_messages(opened.stderr) == []
    dom = parse(opened.stdout)
    assert set(dom.plots) == set(DISCRETE_PLOTS + SOFT_PLOTS) and not dom.empty_plots
    assert all(sum(marks.values()) > 0 for marks in dom.plots.values()), dom.plots


def test_screenshot_shows_the_plots(report_page, tmp_path):
    shot = tmp_path / "report.png"
    opened = open_in_chromium(
        report_page, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}"
    )
    assert opened.returncode == 0 and shot.exists(), opened.stderr[-2000:]
    assert console_messages(opened.stderr) == []
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    assert distinct_colours(image) > 200, "a blank or flat page"
    missing = {
        hex_colour: what for hex_colour, what in PLOT_COLOURS.items() if pixels_near(image, hex_colour) < 40
    }
    assert not missing, f"not drawn: {missing}"
    # Every 500-px band down to the comparison is busy: plots, tables, text - never an empty stretch.
    for top in range(0, 3500, 500):
        assert distinct_colours(image[top : top + 500]) > 30, f"rows {top}-{top + 500} look empty"
