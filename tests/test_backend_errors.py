"""HTTP status and Retry-After mapping shared by every backend."""

from __future__ import annotations

import email.utils
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.backends.base import Fatal, RateLimited, Timeout, Transient
from orchestrator.backends.http_errors import (
    describe_error,
    error_for_status,
    parse_retry_after,
    retry_after_from_headers,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, RateLimited),
        (408, Timeout),
        (409, Transient),
        (500, Transient),
        (502, Transient),
        (503, Transient),
        (529, Transient),
        (None, Transient),
        (400, Fatal),
        (401, Fatal),
        (403, Fatal),
        (404, Fatal),
        (422, Fatal),
    ],
)
def test_status_maps_to_the_hierarchy(status, kind):
    error = error_for_status(status, "msg", {"Retry-After": "4"})
    assert type(error) is kind
    if kind is Fatal:
        assert error.status == status
        assert not isinstance(error, Transient)
    if kind is RateLimited:
        assert error.retry_after == 4.0


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_delay_seconds_round_trip(seconds):
    assert parse_retry_after(repr(seconds)) == pytest.approx(seconds)


@given(st.integers(min_value=0, max_value=10**6))
def test_http_date_becomes_the_remaining_delay(offset):
    header = email.utils.formatdate(NOW + offset, usegmt=True)
    assert parse_retry_after(header, now=lambda: NOW) == pytest.approx(offset, abs=1.0)


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "Mon, 99 Foo 2020", "1e"])
def test_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value) is None


def test_past_dates_and_negative_delays_mean_no_wait():
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(email.utils.formatdate(NOW - 60, usegmt=True), now=lambda: NOW) == 0.0


def test_retry_after_ms_wins_and_header_names_are_case_insensitive():
    assert retry_after_from_headers({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_from_headers({"Retry-After": "2"}) == 2.0
    assert retry_after_from_headers(None) is None


def test_describe_error_is_bounded_and_explains_bad_json():
    try:
        json.loads('{"a": ')
    except json.JSONDecodeError as error:
        assert describe_error(error).startswith("invalid JSON")
    assert len(describe_error(ValueError("x" * 10_000))) <= 303
