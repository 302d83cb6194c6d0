"""The report's dependency-free plotting: tick arithmetic (property tests), colour maps, and the SVG
each chart draws (marks, gaps for missing values, escaping, shapes checked)."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.report.colors import DIVERGING, SEQUENTIAL, text_color_on
from orchestrator.report.heatmap import heatmap
from orchestrator.report.scale import LinearScale, format_number, integer_ticks, nice_ticks
from orchestrator.report.svg import (
    IntervalRow,
    ScatterGroup,
    ScatterPoint,
    Series,
    interval_chart,
    line_chart,
    scatter_chart,
)

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


class Marks(HTMLParser):
    """Counts elements by class and collects every text node of one SVG."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.classes: dict[str, int] = {}
        self.texts: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        for css in (attributes.get("class") or "").split():
            self.classes[css] = self.classes.get(css, 0) + 1

    def handle_data(self, data):
        if data.strip():
            self.texts.append(data)


@given(finite, finite, st.integers(min_value=2, max_value=10))
def test_nice_ticks_cover_the_range_evenly_with_round_steps(a, b, count):
    low, high = min(a, b), max(a, b)
    ticks = nice_ticks(low, high, count)
    steps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) >= 2 and all(s > 0 for s in steps)
    slack = 1e-6 * steps[0]  # invisible on any axis; absorbs rounding at tick-aligned data
    assert ticks[0] <= low + slack and ticks[-1] >= high - slack
    assert max(steps) - min(steps) <= 1e-6 * max(steps)
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(abs(mantissa - nice) < 1e-6 for nice in (1, 2, 2.5, 5, 10))
    assert len(ticks) <= 2 * count + 2


@given(st.integers(-10_000, 10_000), st.integers(0, 100_000), st.integers(1, 10))
def test_integer_ticks_are_whole_round_and_cover_the_range(low, span, count):
    ticks = integer_ticks(low, low + span, count)
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert all(t == int(t) for t in ticks) and len(steps) == 1
    assert ticks[0] <= low and ticks[-1] >= low + span and len(ticks) <= count + 2
    (step,) = steps
    assert int(str(int(step)).rstrip("0") or "0") in (1, 2, 5)


def test_nice_ticks_examples_and_errors():
    assert nice_ticks(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0.12, 0.87, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 0) == [0, 0.25, 0.5, 0.75, 1.0], "all-zero data gets a 0-1 axis, nothing below zero"
    assert nice_ticks(3, 3)[0] < 3 < nice_ticks(3, 3)[-1]
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(0, math.inf)
    with pytest.raises(ValueError, match="low 2 > high 1"):
        nice_ticks(2, 1)


@given(st.floats(min_value=-1e6, max_value=1e6), st.floats(min_value=1e-3, max_value=1e6))
def test_linear_scale_maps_the_domain_ends_onto_the_pixels(low, span):
    scale = LinearScale(low, low + span, 300.0, 20.0)
    assert scale(low) == pytest.approx(300.0) and scale(low + span) == pytest.approx(20.0, abs=1e-3)
    assert scale(low + span / 2) == pytest.approx(160.0, abs=1e-3)


@pytest.mark.parametrize(
    ("value", "step", "scale_from", "label"),
    [
        (0.25, 0.25, None, "0.25"),
        (0.5, 0.25, None, "0.50"),
        (3, 1, None, "3"),
        (33295, None, None, "33.3k"),
        (999999, None, None, "1M"),
        (12500, 2500, None, "12.5k"),
        (5000, 5000, 15000, "5k"),
        (0, 5000, 15000, "0"),
        (0, 0.25, 1, "0.00"),
        (None, None, None, "n/a"),
        (math.nan, None, None, "n/a"),
    ],
)
def test_format_number(value, step, scale_from, label):
    assert format_number(value, step, scale_from) == label


def test_colour_maps_run_from_their_first_stop_to_their_last():
    assert SEQUENTIAL(0.0) == "#f7fbff" and SEQUENTIAL(1.0) == "#08306b" and SEQUENTIAL(7) == "#08306b"
    assert DIVERGING(0.5) == "#f7f7f7" and DIVERGING(math.nan) == "#dddddd"
    assert text_color_on(SEQUENTIAL(1.0)) == "#ffffff" and text_color_on(SEQUENTIAL(0.0)) == "#111111"


def test_line_chart_draws_each_series_and_breaks_lines_at_missing_values():
    series = [
        Series("loss", [(0, 2.0), (1, 1.5), (2, None), (3, 1.0), (4, math.nan), (5, 0.8)]),
        Series("dots only", [(0, 1.0), (5, 1.2)], lines=False),
        Series("steps", [(0, 0.0), (2, 1.0), (5, 2.0)], step=True, markers=False),
    ]
    svg = line_chart("k", "Title", series, x_label="step", y_label="loss")
    marks = Marks(svg)
    paths = [a["d"] for t, a in marks.elements if "series" in (a.get("class") or "").split()]
    assert len(paths) == 3 + 1, "loss breaks into three segments; the steps are one path; dots draw none"
    assert marks.classes["point"] == 4 + 2
    assert "H" in paths[-1] and "V" in paths[-1]
    assert {"Title", "loss", "dots only", "steps", "step"} <= set(marks.texts)
    svg_tag = marks.elements[0][1]
    assert svg_tag["data-plot"] == "k" and svg_tag["class"] == "plot"


def test_charts_without_data_say_so():
    for svg in (
        line_chart("a", "A", [Series("x", [(0, None)])], x_label="x", y_label="y"),
        scatter_chart("b", "B", [ScatterGroup("g", [])], x_label="x", y_label="y"),
        interval_chart("c", "C", [IntervalRow("r", None)], x_label="x"),
    ):
        marks = Marks(svg)
        assert marks.classes.get("empty") == 1 and marks.classes.get("empty-note") == 1
        assert "point" not in marks.classes


def test_text_from_data_is_escaped_everywhere():
    hostile = '<script>alert("x")</script>&'
    svgs = [
        line_chart("k", hostile, [Series(hostile, [(0, 1.0), (1, 2.0)])], x_label=hostile, y_label=hostile),
        scatter_chart(
            "s", "t", [ScatterGroup(hostile, [ScatterPoint(0, 1, hostile)])], x_label="x", y_label="y"
        ),
        heatmap("h", "t", [hostile], [hostile], [[0.5]]),
        interval_chart("i", "t", [IntervalRow(hostile, 0.5, 0.4, 0.6)], x_label="x"),
    ]
    for svg in svgs:
        assert "<script" not in svg and "&lt;script&gt;" in svg
        assert all(tag != "script" for tag, _ in Marks(svg).elements)


def test_scatter_rings_the_front_and_joins_it():
    points = [ScatterPoint(0.9, 0.3, "a"), ScatterPoint(0.5, 0.1, "b"), ScatterPoint(0.4, 0.4, "c")]
    marks = Marks(
        scatter_chart("p", "P", [ScatterGroup("stage", points, front=[0, 1])], x_label="x", y_label="y")
    )
    assert marks.classes["point"] == 3 and marks.classes["front"] == 2 and marks.classes["front-line"] == 1


def test_heatmap_cells_carry_values_and_shapes_are_checked():
    svg = heatmap("g", "Gate", ["t1", "t2"], ["p1", "p2", "p3"], [[0.1, 0.2, 0.7], [None, 0.5, 0.5]])
    marks = Marks(svg)
    values = [a["data-value"] for t, a in marks.elements if a.get("class") == "cell"]
    assert values == ["0.1", "0.2", "0.7", "", "0.5", "0.5"]
    assert {"0.70", "n/a", "t1", "p3", "1.00", "0.00"} <= set(marks.texts)
    fills = [a["fill"] for t, a in marks.elements if a.get("class") == "cell"]
    assert fills[3] == "#dddddd" and fills[2] == SEQUENTIAL(0.7)
    with pytest.raises(ValueError, match=re.escape("need 2 x 3")):
        heatmap("g", "Gate", ["t1", "t2"], ["p1", "p2", "p3"], [[0.1, 0.2, 0.7], [0.5, 0.5]])


def test_interval_chart_draws_a_bar_per_interval():
    rows = [IntervalRow("base", 0.5, 0.3, 0.7), IntervalRow("no ci", 0.6), IntervalRow("best", 0.8, 0.7, 0.9)]
    marks = Marks(interval_chart("c", "C", rows, x_label="accuracy"))
    assert marks.classes["interval"] == 2 and marks.classes["point"] == 3
    assert {"base", "no ci", "best", "0.800"} <= set(marks.texts)
