"""Prices come from litellm's shipped cost map (read as JSON), matched exactly or by the longest
snapshot; ``options.price_usd_per_mtok`` overrides; the dry run says where each price came from."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.backends.pricing import Price, model_price, price_for
from tests.runtime_campaign import cli, write_campaign


def _shipped(name: str) -> Price:
    """The entry as litellm ships it (the test reads the file itself, no copied table)."""
    folder = Path(importlib.util.find_spec("litellm").submodule_search_locations[0])
    entry = json.loads((folder / "model_prices_and_context_window_backup.json").read_text())[name]
    return Price(entry["input_cost_per_token"] * 1e6, entry["output_cost_per_token"] * 1e6)


def test_a_dated_snapshot_gets_its_own_price_not_an_older_family_member():
    price = price_for("claude-opus-4-5-20251101", provider="anthropic")
    assert price == _shipped("claude-opus-4-5-20251101")
    assert price != Price(15.0, 75.0)  # Opus 4's price, which the old prefix rule gave
    assert "claude-opus-4-5-20251101" in price.source


@pytest.mark.parametrize(
    ("model", "entry"),
    [
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2099-01-01", "gpt-4o-mini"),  # an unknown snapshot: the longest known name
        ("gpt-4o-2099-01-01", "gpt-4o"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ],
)
def test_names_match_exactly_or_by_the_longest_snapshot(model, entry):
    price = price_for(model)
    assert price == _shipped(entry)
    assert price.source.endswith(f"cost map: {entry}")


@pytest.mark.parametrize("model", ["llama-3.1-8b-my-finetune", "gpt-4o-minimal", "Qwen/Qwen2.5-7B-mine"])
def test_unknown_models_have_no_price(model):
    assert price_for(model, provider="openai") is None


def test_a_provider_only_takes_its_own_entries():
    assert price_for("claude-sonnet-4-5-20250929", provider="openai") is None
    assert model_price("litellm/anthropic/claude-opus-4-5-20251101") == _shipped("claude-opus-4-5-20251101")
    assert model_price("local/smollm2-135m-instruct") == Price(0, 0)


def test_override_wins_and_is_validated():
    assert price_for("gpt-4o", {"price_usd_per_mtok": [0, 0]}) == Price(0, 0)
    assert price_for("gpt-4o", {"price_usd_per_mtok": [0, 0]}).source == "options.price_usd_per_mtok"
    assert Price(1.0, 2.0).cost(1_000_000, 500_000) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="price_usd_per_mtok"):
        price_for("x", {"price_usd_per_mtok": [1]})
    with pytest.raises(ValueError, match="non-negative"):
        price_for("x", {"price_usd_per_mtok": [-1, 1]})


def test_reading_prices_does_not_import_litellm():
    code = (
        "import sys; from orchestrator.backends.pricing import price_for; "
        "assert price_for('gpt-4o-mini') is not None; assert 'litellm' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_the_dry_run_says_where_each_price_came_from(tmp_path, fake_server):
    path = write_campaign(tmp_path, fake_server)
    config = yaml.safe_load(path.read_text())
    config["models"]["reference"]["model"] = "anthropic/claude-opus-4-5-20251101"
    config["models"]["scorer"]["options"] = {"price_usd_per_mtok": [0.5, 1.5]}
    path.write_text(yaml.safe_dump(config))
    proc = cli("run", str(path), "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = _shipped("claude-opus-4-5-20251101")
    assert (
        f"price of reference anthropic/claude-opus-4-5-20251101: {expected.input_per_mtok:g}/"
        f"{expected.output_per_mtok:g} USD per Mtok in/out (litellm "
    ) in proc.stdout
    assert "cost map: claude-opus-4-5-20251101)" in proc.stdout
    assert (
        "price of scorer openai/sim: 0.5/1.5 USD per Mtok in/out (options.price_usd_per_mtok)" in proc.stdout
    )
