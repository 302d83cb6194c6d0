"""The response cache's key covers every backend setting that changes answers, and no secret.

The property: for every registered provider and every option its typed ``options`` model declares
(except those declared not to change answers), two different values give two different keys; so do two
endpoints (``api_base``). The API key (and the variable it is read from) never enters the key.
"""

from __future__ import annotations

import dataclasses
import string
import types
import typing
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from orchestrator.backends.base import ChatRequest
from orchestrator.backends.registry import OPTION_MODELS, options_model
from orchestrator.gateway import GatewaySettings, ResponseCache
from orchestrator.gateway.request_key import affects_answers, key_scope, request_key
from tests.conftest import MakeGateway, case_named
from tests.fakeserver import FakeServer

MODELS = {"openai": "openai/m", "anthropic": "anthropic/m", "litellm": "litellm/openai/m", "local": "local/m"}
REQUEST = ChatRequest.from_messages([{"role": "user", "content": "Is it so?"}])
# Plausible strings for str options (dtype names, devices, environment variable names...).
WORDS = ["float32", "bfloat16", "fp16", "cpu", "cuda", "cuda:1", "MY_TOKEN", "OTHER_VAR", "x-route", "a"]


def _values(annotation: Any) -> st.SearchStrategy:
    """Values of a field's annotation (invalid ones are filtered out by the options model)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(st.none() if a is type(None) else _values(a) for a in args))
    if origin is dict:
        keys = st.text(string.ascii_lowercase + "-_", min_size=1, max_size=8)
        return st.dictionaries(keys, st.sampled_from(WORDS), min_size=1, max_size=2)
    if origin is tuple:
        return st.tuples(*(_values(a) for a in args))
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(1, 100_000)
    if annotation is float:
        return st.floats(0, 1e4, allow_nan=False)
    if annotation is str:
        return st.sampled_from(WORDS)
    raise AssertionError(f"no strategy for {annotation!r}: teach this test the option's type")


def _key(model: str, options: dict[str, Any] | None = None, **fields: Any) -> str:
    settings = GatewaySettings(model=model, options=options or {}, **fields)
    return request_key(model, REQUEST, scope=key_scope(settings))[0]


def _answer_fields() -> list[tuple[str, str]]:
    fields = []
    for prefix in sorted(OPTION_MODELS):
        cls = options_model(prefix)
        fields += [(prefix, name) for name, info in cls.model_fields.items() if affects_answers(info)]
    return fields


@pytest.mark.parametrize(("prefix", "name"), _answer_fields())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_changing_an_option_that_changes_answers_changes_the_key(prefix, name, data):
    cls = options_model(prefix)
    strategy = _values(cls.model_fields[name].annotation)
    first, second = data.draw(strategy, "first"), data.draw(strategy, "second")
    try:
        a = cls.model_validate({name: first}).model_dump(mode="json")[name]
        b = cls.model_validate({name: second}).model_dump(mode="json")[name]
    except ValidationError:
        assume(False)
    assume(a != b)
    assert _key(MODELS[prefix], {name: first}) != _key(MODELS[prefix], {name: second})


def test_the_options_that_change_answers_include_the_known_ones():
    fields = set(_answer_fields())
    expected = {("local", "scoring_precision"), ("local", "dtype"), ("local", "device")}
    expected |= {("litellm", "litellm_params"), ("openai", "max_tokens_param")}
    expected |= {("anthropic", "send_temperature"), ("openai", "extra_headers")}
    assert expected <= fields


@pytest.mark.parametrize("prefix", sorted(OPTION_MODELS))
def test_options_that_do_not_change_answers_keep_the_key(prefix):
    cls = options_model(prefix)
    exempt = [name for name, info in cls.model_fields.items() if not affects_answers(info)]
    assert exempt, "every provider has settings that only change speed or accounting"
    base = _key(MODELS[prefix])
    changed = {"price_usd_per_mtok": [1, 2], "threads": 3, "max_batch": 7, "cache_dir": "/tmp/x"}
    for name in exempt:
        assert _key(MODELS[prefix], {name: changed[name]} if name in changed else {}) == base, name


@given(base=st.sampled_from(["http://a:8000/v1", "http://b:8000/v1", "https://api.openai.com/v1", None]))
def test_the_endpoint_is_in_the_key_and_the_api_key_is_not(base):
    other = "http://elsewhere:9000/v1"
    assert _key("openai/m", api_base=base) != _key("openai/m", api_base=other)
    assert _key("openai/m", api_base=base, api_key_env="KEY_A") == _key(
        "openai/m", api_base=base, api_key_env="KEY_B"
    )


async def test_a_warm_cache_is_not_used_for_another_endpoint(
    make_gateway: MakeGateway, fake_server: FakeServer, tmp_path
):
    case = case_named("openai")
    messages = [{"role": "user", "content": "same question"}]
    cache = ResponseCache(tmp_path / "shared.sqlite")
    await make_gateway(case, cache=cache).chat(messages)
    assert len(fake_server.requests) == 1
    await make_gateway(case, cache=cache).chat(messages)
    assert len(fake_server.requests) == 1  # same endpoint, same options: a cache hit
    moved = fake_server.openai_base.replace("127.0.0.1", "localhost")
    await make_gateway(dataclasses.replace(case, api_base=lambda server: moved), cache=cache).chat(messages)
    cache.close()
    assert len(fake_server.requests) == 2  # another server behind the same model name: asked
