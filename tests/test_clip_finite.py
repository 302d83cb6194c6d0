"""The one clip rule and the one finite-number test that the search, the CLI and the reports share."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.clip import clip
from orchestrator.json_safe import finite_or_none, is_finite


@given(st.text(), st.integers(min_value=3, max_value=50), st.booleans())
def test_clip_fits_the_width_and_marks_a_cut(text, width, collapse):
    clipped = clip(text, width, collapse=collapse)
    shown = " ".join(text.split()) if collapse else text
    assert len(clipped) <= width
    assert clipped == shown if len(shown) <= width else clipped == shown[: width - 3] + "..."


def test_clip_collapses_whitespace_unless_told_not_to():
    assert clip("a\n  b", 10) == "a b"
    assert clip("a\n  b", 10, collapse=False) == "a\n  b"
    assert clip("abcdef", 4, ellipsis="…") == "abc…"
    assert clip(None, 10) == "None"


def test_a_number_is_finite_only_when_it_is_a_real_measured_value():
    assert [is_finite(v) for v in (0, 1.5, -2)] == [True, True, True]
    assert not any(is_finite(v) for v in (math.nan, math.inf, -math.inf, None, True, "1"))
    assert finite_or_none(3) == 3.0 and isinstance(finite_or_none(3), float)
    assert finite_or_none(math.nan) is None and finite_or_none(None) is None
