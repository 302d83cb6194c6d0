"""The SQLite response cache: keys, round trips, corruption handling, and the cost of a hit."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.backends.base import ChatRequest, Completion, LabelScores, TokenLogprob
from orchestrator.gateway import ResponseCache, request_key
from orchestrator.gateway.codec import CorruptEntry, completion_from_json, completion_to_json
from tests.conftest import MakeGateway, case_named
from tests.fakeserver import FakeServer

MODEL = "openai/gpt-4o-mini"
text = st.text(max_size=200)


@given(
    messages=st.lists(
        st.tuples(st.sampled_from(["system", "user", "assistant"]), text), min_size=1, max_size=4
    ),
    temperature=st.sampled_from([0.0, 0.3, 1.0]),
    sample_index=st.integers(0, 5),
)
def test_request_key_is_a_function_of_content(messages, temperature, sample_index):
    request = ChatRequest(messages=tuple(messages), temperature=temperature, sample_index=sample_index)
    same = ChatRequest(messages=tuple(messages), temperature=temperature, sample_index=sample_index)
    assert request_key(MODEL, request) == request_key(MODEL, same)
    changed = ChatRequest(messages=tuple(messages) + (("user", "more"),), temperature=temperature)
    assert request_key(MODEL, changed)[0] != request_key(MODEL, request)[0]
    assert request_key("openai/other", request)[0] != request_key(MODEL, request)[0]
    other_sample = ChatRequest(
        messages=tuple(messages), temperature=temperature, sample_index=sample_index + 1
    )
    assert (request_key(MODEL, other_sample)[0] == request_key(MODEL, request)[0]) is (temperature == 0.0)


def test_request_key_separates_kinds_and_label_sets():
    request = ChatRequest.from_messages([{"role": "user", "content": "x"}])
    keys = {
        request_key(MODEL, request)[0],
        request_key(MODEL, request, kind="score_labels", labels=("a", "b"))[0],
        request_key(MODEL, request, kind="score_labels", labels=("b", "a"))[0],
        request_key(MODEL, request, kind="score_labels", labels=("a", "c"))[0],
    }
    assert len(keys) == 4


@given(
    body=text,
    logprobs=st.none()
    | st.lists(
        st.tuples(text, st.floats(-50, 0), st.lists(st.tuples(text, st.floats(-50, 0)), max_size=3)),
        max_size=4,
    ),
    cost=st.none() | st.floats(0, 10),
)
def test_completion_round_trips_through_json(body, logprobs, cost):
    completion = Completion(
        text=body,
        model=MODEL,
        prompt_tokens=3,
        completion_tokens=4,
        cost_usd=cost,
        finish_reason="stop",
        logprobs=None
        if logprobs is None
        else tuple(TokenLogprob(t, lp, tuple(top)) for t, lp, top in logprobs),
        latency_s=0.25,
    )
    decoded = completion_from_json(completion_to_json(completion))
    assert decoded.cached is True
    assert decoded == Completion(**{**completion.__dict__, "cached": True})


@pytest.mark.parametrize(
    "payload",
    [
        "{not json",
        "[]",
        '{"text": "hi"}',
        '{"text": 5, "model": "m", "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": null,'
        ' "finish_reason": null, "logprobs": null, "latency_s": 0}',
        '{"text": "x", "model": "m", "prompt_tokens": true, "completion_tokens": 1, "cost_usd": null,'
        ' "finish_reason": null, "logprobs": null, "latency_s": 0}',
        '{"text": "x", "model": "m", "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": null,'
        ' "finish_reason": null, "logprobs": [["t"]], "latency_s": 0}',
    ],
)
def test_malformed_entries_are_corrupt(payload):
    with pytest.raises(CorruptEntry):
        completion_from_json(payload)


def test_put_get_and_corrupt_entries_are_discarded(tmp_path: Path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        completion = Completion(text="hi", model=MODEL, prompt_tokens=1, completion_tokens=1)
        cache.put_completion("k1", "{}", completion)
        assert cache.get_completion("k1").text == "hi"
        scores = LabelScores(probs={"a": 0.25, "b": 0.75}, logprobs={"a": -1.4, "b": -0.3}, prompt_tokens=5)
        cache.put_scores("k2", MODEL, "{}", scores)
        assert cache.get_scores("k2").probs == {"a": 0.25, "b": 0.75}
        cache._conn.execute("UPDATE responses SET response = '{\"text\": ' WHERE key = 'k1'")
        assert cache.get_completion("k1") is None
        assert cache.stats.corrupt == 1
        assert cache.count() == 1  # the corrupt row is gone
        assert cache._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_sqlite_gives_an_error_naming_it(tmp_path: Path):
    bogus = tmp_path / "not-a-db.sqlite"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError, match="not-a-db.sqlite"):
        ResponseCache(bogus)


async def test_writes_are_batched_and_visible_at_once(tmp_path: Path):
    with ResponseCache(tmp_path / "batch.sqlite", flush_interval=0.05) as cache:
        for index in range(10):
            cache.put_completion(f"k{index}", "{}", Completion(text=str(index), model=MODEL))
        assert cache.stats.writes == 0  # buffered for flush_interval
        assert cache.get_completion("k3").text == "3"  # but already visible
        await asyncio.sleep(0.1)
        assert cache.stats.writes == 10
        assert cache._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 10


def test_background_checkpoints_keep_every_entry(tmp_path: Path):
    path = tmp_path / "many.sqlite"
    with ResponseCache(path, checkpoint_every=50) as cache:
        for index in range(400):
            cache.put_completion(f"k{index}", "{}", Completion(text=str(index), model=MODEL))
    with ResponseCache(path) as reopened:
        assert reopened.count() == 400
        assert reopened.get_completion("k399").text == "399"
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


async def test_closing_commits_what_is_still_buffered(tmp_path: Path):
    cache = ResponseCache(tmp_path / "closing.sqlite", flush_interval=60)
    cache.put_completion("k", "{}", Completion(text="kept", model=MODEL))
    cache.close()
    with ResponseCache(tmp_path / "closing.sqlite") as reopened:
        assert reopened.get_completion("k").text == "kept"


async def test_corrupt_entry_is_refetched_through_the_gateway(
    make_gateway: MakeGateway, fake_server: FakeServer, tmp_path: Path
):
    cache = ResponseCache(tmp_path / "g.sqlite")
    gateway = make_gateway(case_named("openai"), cache=cache)
    messages = [{"role": "user", "content": "hello"}]
    await gateway.chat(messages)
    cache.flush()
    cache._conn.execute("UPDATE responses SET response = 'garbage'")
    again = await gateway.chat(messages)
    assert again.text == "echo: hello" and not again.cached
    assert fake_server.count() == 2
    assert (await gateway.chat(messages)).cached  # repaired
    assert fake_server.count() == 2
    cache.close()


async def test_a_cache_hit_costs_under_a_millisecond_of_cpu(
    make_gateway: MakeGateway, fake_server: FakeServer, tmp_path: Path
):
    cache = ResponseCache(tmp_path / "hits.sqlite")
    gateway = make_gateway(case_named("openai"), cache=cache)
    prompts = [[{"role": "user", "content": f"question {i} " * 20}] for i in range(20)]
    for prompt in prompts:
        await gateway.chat(prompt, logprobs=True, top_logprobs=5)
    started = time.process_time()
    rounds = 25
    for _ in range(rounds):
        for prompt in prompts:
            assert (await gateway.chat(prompt, logprobs=True, top_logprobs=5)).cached
    per_hit = (time.process_time() - started) / (rounds * len(prompts))
    assert per_hit < 1e-3, f"{per_hit * 1e3:.3f} ms CPU per cache hit"
    assert fake_server.count() == len(prompts)
    cache.close()
