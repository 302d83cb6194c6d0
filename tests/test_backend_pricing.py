"""The approximate price table and its override."""

from __future__ import annotations

import pytest

from orchestrator.backends.pricing import Price, price_for


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", (0.15, 0.60)),
        ("gpt-4o-mini-2024-07-18", (0.15, 0.60)),
        ("gpt-4o-2024-08-06", (2.50, 10.00)),
        ("gpt-4.1-nano", (0.10, 0.40)),
        ("claude-3-5-haiku-20241022", (0.80, 4.00)),
        ("claude-sonnet-4-5-20250929", (3.00, 15.00)),
    ],
)
def test_snapshots_match_the_longest_known_name(model, expected):
    assert price_for(model) == Price(*expected)


@pytest.mark.parametrize("model", ["llama-3.1-8b", "gpt-4o-minimal", "gpt-4o-mini-tts", "Qwen/Qwen2.5-7B"])
def test_unknown_models_have_no_price(model):
    assert price_for(model) is None


def test_override_wins_and_is_validated():
    assert price_for("gpt-4o", {"price_usd_per_mtok": [0, 0]}) == Price(0, 0)
    assert Price(1.0, 2.0).cost(1_000_000, 500_000) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="price_usd_per_mtok"):
        price_for("x", {"price_usd_per_mtok": [1]})
    with pytest.raises(ValueError, match="non-negative"):
        price_for("x", {"price_usd_per_mtok": [-1, 1]})
