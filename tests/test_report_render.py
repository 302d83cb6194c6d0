"""Rendering the report: the HTML page (every plot there, with data; self-contained; LLM text escaped),
the JSON and Markdown formats, the CLI command and secrets. All on a real run in a real store."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from orchestrator.cli import report_cmd
from orchestrator.errors import RunNotFound
from orchestrator.report import build_report, gather_report
from orchestrator.store import RunStore
from tests.conftest import PLANTED_API_KEY
from tests.test_report_data import KEY_ENV, SimRun, copy_run, run_sim_campaign, with_soft

DISCRETE_PLOTS = (
    "objective-source",
    "objective-target",
    "dimensions-source",
    "dimensions-target",
    "pareto",
    "calls",
    "tokens",
    "spend",
    "comparison",
)
SOFT_PLOTS = ("soft-loss", "soft-dev", "gate", "similarity")
DATA_CLASSES = {"series", "point", "front", "cell", "interval"}
HOSTILE = '</pre><script>alert("pwned")</script><img src=x onerror=alert(1)> | `` ``` <b>bold</b> & co'


class PageParser(HTMLParser):
    """Collects each plot's data marks, every tag and attribute, scripts and <pre> texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.plots: dict[str, dict[str, int]] = {}
        self.empty_plots: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.pre_texts: list[str] = []
        self._plot: str | None = None
        self._pre: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        classes = set((attributes.get("class") or "").split())
        if tag == "svg" and "plot" in classes:
            self._plot = attributes["data-plot"]
            self.plots[self._plot] = {}
            if "empty" in classes:
                self.empty_plots.add(self._plot)
        elif self._plot:
            for css in classes & DATA_CLASSES:
                self.plots[self._plot][css] = self.plots[self._plot].get(css, 0) + 1
        if tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if tag == "svg":
            self._plot = None
        if tag == "pre" and self._pre is not None:
            self.pre_texts.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        if self._pre is not None:
            self._pre.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def render(run: SimRun, fmt: str = "html", **kwargs) -> str:
    store = RunStore(run.store)
    try:
        return build_report(store, run.run_id, fmt=fmt, environ=kwargs.pop("environ", {}), **kwargs)
    finally:
        store.close()


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory, fake_server_session) -> SimRun:
    fake_server_session.reset()
    try:
        run = run_sim_campaign(tmp_path_factory.mktemp("report-render"), fake_server_session)
        sent = [" ".join(r.headers.values()) for r in fake_server_session.requests]
        assert sent and all(PLANTED_API_KEY in headers for headers in sent), "the key was really used"
        return run
    finally:
        fake_server_session.reset()


def test_html_has_every_plot_with_its_data(sim_run, tmp_path):
    page = parse(render(with_soft(sim_run, tmp_path)))
    assert set(page.plots) == set(DISCRETE_PLOTS + SOFT_PLOTS)
    assert not page.empty_plots
    for key in ("objective-source", "objective-target", "dimensions-source", "pareto", "soft-dev"):
        assert page.plots[key].get("point", 0) >= 3, (key, page.plots[key])
    for key in ("objective-target", "dimensions-target", "calls", "tokens", "spend", "soft-loss"):
        assert page.plots[key].get("series", 0) >= 1, (key, page.plots[key])
    assert page.plots["calls"]["series"] == 2
    assert page.plots["soft-loss"]["series"] == 4
    assert page.plots["pareto"]["front"] >= 2
    assert page.plots["gate"]["cell"] == 9 and page.plots["similarity"]["cell"] == 9
    assert page.plots["comparison"] == {"interval": 6, "point": 6}


def test_html_without_soft_stage_says_so(sim_run):
    text = render(sim_run)
    page = parse(text)
    assert set(page.plots) == set(DISCRETE_PLOTS)
    note = [attrs for tag, attrs in page.tags if attrs.get("data-note") == "soft-absent"]
    assert note and "soft-prompt stage not run: soft.enabled is false in this campaign" in text


def test_html_is_self_contained_and_scriptless(sim_run, tmp_path):
    text = render(with_soft(sim_run, tmp_path))
    page = parse(text)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignobject"}
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src", "xlink:href", "action", "srcset"):
                assert (value or "").startswith("#"), (tag, name, value)
    assert "url(" not in text and "@import" not in text
    csp = [
        a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in csp[0]


def _plant_hostile_prompt(run: SimRun, folder: Path) -> SimRun:
    copy = copy_run(run, folder)
    store = RunStore(copy.store)
    result = store.result(copy.run_id)
    result["final"]["winner"]["prompt"] = HOSTILE
    result["final"]["test"]["winner"]["prompt"] = HOSTILE
    store.set_result(copy.run_id, result)
    candidate = store.candidates(copy.run_id)[-1]
    scores = {**candidate["scores"], "accuracy": 1.0, "ece": 0.0}  # on the front, so in the Pareto table
    candidate = {**candidate, "id": "hostile", "prompt": HOSTILE, "scores": scores}
    store.record_candidate(copy.run_id, candidate)
    store.close()
    return copy


def test_llm_written_prompts_are_escaped_in_html_and_markdown(sim_run, tmp_path):
    run = _plant_hostile_prompt(sim_run, tmp_path)
    page = parse(render(run))
    assert "script" not in {tag for tag, _ in page.tags} and "b" not in {tag for tag, _ in page.tags}
    assert HOSTILE in page.pre_texts, "the prompt must be shown verbatim, as text"
    markdown = render(run, "md")
    assert "````text\n" + HOSTILE + "\n````" in markdown, "fence longer than the prompt's backtick runs"
    assert "<script>" not in markdown.replace(HOSTILE, "")
    assert "&lt;script&gt;" in markdown, "table cells are HTML-escaped (the pareto table shows the prompt)"


def test_json_format_is_the_gathered_data(sim_run, tmp_path):
    run = with_soft(sim_run, tmp_path)
    data = json.loads(render(run, "json"))
    store = RunStore(run.store)
    expected = gather_report(store, run.run_id)
    store.close()
    data.pop("generated"), expected.pop("generated")
    assert data == json.loads(json.dumps(expected))
    assert data["schema_version"] == 1 and data["soft"]["similarity"]["matrix"][1][2] == -0.55


def test_markdown_has_the_tables(sim_run, tmp_path):
    markdown = render(with_soft(sim_run, tmp_path), "md")
    for heading in (
        "## Search progress",
        "## Pareto front: accuracy",
        "## Calls and spend",
        "### Gate weights",
        "## Final comparison (held-out test)",
        "## Winning prompts",
    ):
        assert heading in markdown
    # A soft row saved without per-example answers keeps its accuracy; the rest is unknown, not invented.
    assert "| fused soft prompt | soft | n/a | 0.830 [0.67, 0.96] | n/a | 0.090 |  |  |" in markdown
    assert "| uniform random: a label at random (1/2 each) | trivial | 0.500 [" in markdown
    assert " vs baseline prompt | " in markdown


def _cli(*args: str) -> object:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The report command alone (the real app registers it with the others)."""

    report_cmd.register(app)
    return CliRunner().invoke(app, ["report", *args])


def test_cli_writes_each_format_and_prints_where(sim_run, tmp_path):
    run = copy_run(sim_run, tmp_path)
    result = _cli(run.run_id, "--store", str(run.store))
    assert result.exit_code == 0, result.output
    default = tmp_path / "reports" / f"{run.run_id}.html"
    assert result.output.strip() == f"report: {default}" and default.read_text().startswith("<!DOCTYPE html>")
    out = tmp_path / "x" / "r.json"
    result = _cli(
        run.run_id, "--store", str(run.store), "--format", "json", "--out", str(out), "--pareto", "auroc,ece"
    )
    assert result.exit_code == 0 and json.loads(out.read_text())["pareto"]["x"] == "auroc"
    result = _cli(run.run_id, "--store", str(run.store), "--format", "md", "--out", "-")
    assert result.exit_code == 0 and result.output.startswith("# promptfusion report: report-sim")
    bad = _cli(run.run_id, "--store", str(run.store), "--format", "pdf")
    assert bad.exit_code == 2 and "--format" in bad.output
    missing = _cli("no-such-run", "--store", str(run.store))
    assert isinstance(missing.exception, RunNotFound) and "no-such-run" in str(missing.exception)
    nowhere = _cli(run.run_id, "--store", str(tmp_path / "absent.sqlite"))
    assert isinstance(nowhere.exception, RunNotFound) and "no run store here" in str(nowhere.exception)


def test_a_planted_api_key_never_reaches_any_format(sim_run, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, PLANTED_API_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED_API_KEY + "-openai")
    run = with_soft(sim_run, tmp_path)
    for fmt in ("html", "json", "md"):
        result = _cli(run.run_id, "--store", str(run.store), "--format", fmt, "--out", "-")
        assert result.exit_code == 0, result.output
        assert PLANTED_API_KEY not in result.output, fmt
        if fmt != "md":
            assert KEY_ENV in result.output, "the config shows which variable holds the key"


def test_secrets_that_reached_the_store_are_still_kept_out(tmp_path, monkeypatch):
    monkeypatch.setenv("PF_OTHER_TOKEN", "tok-" + PLANTED_API_KEY)
    store = RunStore(tmp_path / "store.sqlite")
    config = {
        "name": "leaky",
        "models": {
            "scorer": {
                "api_base": f"https://u:{PLANTED_API_KEY}@llm.test/v1",
                "options": {
                    "api_key": PLANTED_API_KEY,
                    "headers": {"Authorization": f"Bearer {PLANTED_API_KEY}"},
                },
            }
        },
    }
    run_id = store.create_run("leaky", config, seed=0, run_id="leaky-run")
    store.record_candidate(
        run_id,
        {
            "id": "c1",
            "stage": "source",
            "iteration": 0,
            "prompt": f"Use tok-{PLANTED_API_KEY} to answer.",
            "origin": "baseline",
            "objective": 0.5,
            "scores": {"accuracy": 0.5, "ece": 0.2},
            "per_task": {},
        },
    )
    store.close()
    for fmt in ("html", "json", "md"):
        result = _cli(run_id, "--store", str(tmp_path / "store.sqlite"), "--format", fmt, "--out", "-")
        assert result.exit_code == 0, result.output
        assert PLANTED_API_KEY not in result.output, fmt
    assert "[redacted:PF_OTHER_TOKEN]" in result.output
