"""The OpenAI-compatible server in front of a real local backend (a tiny Llama built from a config),
talked to over loopback HTTP by the openai SDK, our own ``openai/`` backend and raw httpx."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from orchestrator.backends.base import BackendSettings, ChatRequest
from orchestrator.backends.registry import create_backend
from orchestrator.serve import RequestError, parse_chat_request, run_server
from tests.test_local_tiny import save_tiny_model

pytest.importorskip("torch")

REVIEW = [
    {"role": "system", "content": "Classify the sentiment of the review."},
    {"role": "user", "content": "the movie was great and fun"},
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-serve"))


@pytest.fixture
async def backend(model_dir):
    backend = create_backend(f"local/{model_dir}", BackendSettings(options={"device": "cpu"}))
    yield backend
    await backend.aclose()


@pytest.fixture
async def served(backend):
    async with run_server(backend, model_name="local/tiny") as url:
        yield url


@pytest.fixture
async def client(served):
    import openai

    client = openai.AsyncOpenAI(base_url=f"{served}/v1", api_key="unused", max_retries=0, timeout=60)
    yield client
    await client.close()


async def test_openai_sdk_gets_the_backends_greedy_answer_with_usage(client, backend):
    response = await client.chat.completions.create(
        model="anything", messages=REVIEW, max_tokens=8, temperature=0
    )
    direct = await backend.complete(ChatRequest.from_messages(REVIEW, max_tokens=8))
    choice = response.choices[0]
    assert choice.message.content == direct.text and choice.message.role == "assistant"
    assert choice.finish_reason == direct.finish_reason
    assert response.model == "local/tiny"
    assert response.usage.prompt_tokens == direct.prompt_tokens
    assert response.usage.completion_tokens == direct.completion_tokens
    assert response.usage.total_tokens == direct.prompt_tokens + direct.completion_tokens
    assert choice.logprobs is None


async def test_logprobs_carry_the_requested_number_of_alternatives(client, backend):
    response = await client.chat.completions.create(
        model="m", messages=REVIEW, max_tokens=5, temperature=0, logprobs=True, top_logprobs=3
    )
    content = response.choices[0].logprobs.content
    assert "".join(item.token for item in content) == response.choices[0].message.content
    direct = await backend.complete(
        ChatRequest.from_messages(REVIEW, max_tokens=5, logprobs=True, top_logprobs=3)
    )
    for item, expected in zip(content, direct.logprobs, strict=True):
        assert item.token == expected.token and item.logprob == pytest.approx(expected.logprob, abs=1e-6)
        assert [alt.token for alt in item.top_logprobs] == [tok for tok, _ in expected.top]
        assert len(item.top_logprobs) == 3 and bytes(item.bytes).decode() == item.token


async def test_our_openai_backend_scores_whole_labels_through_the_server(served, backend):
    # Labels the tiny model would not offer among its first tokens: the first-token estimate had
    # nothing to work with ("none of the first-token alternatives ..."); whole labels are exact.
    labels = ["Car", "zebra crossing", "positive"]
    remote = create_backend("openai/local-tiny", BackendSettings(api_base=f"{served}/v1", api_key="unused"))
    try:
        scores = await remote.score_labels(ChatRequest.from_messages(REVIEW), labels)
        assert remote.label_method == "whole_label"
    finally:
        await remote.aclose()
    direct = await backend.score_labels(ChatRequest.from_messages(REVIEW), labels)
    assert sum(scores.probs.values()) == pytest.approx(1.0, abs=1e-9)
    for label in labels:
        assert scores.logprobs[label] == pytest.approx(direct.logprobs[label], abs=1e-3)
        assert scores.probs[label] == pytest.approx(direct.probs[label], abs=1e-3)


async def test_prompt_logprobs_score_the_continued_message_token_by_token(served, backend):
    body = {
        "model": "m",
        "messages": [*REVIEW, {"role": "assistant", "content": "zebra crossing"}],
        "continue_final_message": True,
        "add_generation_prompt": False,
        "prompt_logprobs": 0,
        "max_tokens": 1,
    }
    async with httpx.AsyncClient(timeout=60) as http:
        reply = (await http.post(f"{served}/v1/chat/completions", json=body)).json()
        refused = await http.post(
            f"{served}/v1/chat/completions", json={**body, "continue_final_message": False}
        )
    entries = reply["prompt_logprobs"]
    scored = [e for e in entries if e is not None]
    assert len(entries) == reply["usage"]["prompt_tokens"] and len(scored) >= 2
    assert "".join(next(iter(e.values()))["decoded_token"] for e in scored) == "zebra crossing"
    direct = await backend.score_labels(ChatRequest.from_messages(REVIEW), ["zebra crossing", "no"])
    total = sum(next(iter(e.values()))["logprob"] for e in scored)
    assert total == pytest.approx(direct.logprobs["zebra crossing"], abs=1e-3)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "prompt_logprobs"


async def test_n_sampled_choices_are_reproducible_with_a_seed(served):
    body = {"messages": REVIEW, "max_tokens": 6, "temperature": 1.0, "seed": 7, "n": 3}
    async with httpx.AsyncClient(base_url=served, timeout=60) as http:
        first = (await http.post("/v1/chat/completions", json=body)).json()
        again = (await http.post("/v1/chat/completions", json=body)).json()
    texts = [c["message"]["content"] for c in first["choices"]]
    assert [c["index"] for c in first["choices"]] == [0, 1, 2]
    assert texts == [c["message"]["content"] for c in again["choices"]]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, None),
        ({"messages": REVIEW, "stream": True}, "stream"),
        ({"messages": REVIEW, "top_logprobs": 21}, "top_logprobs"),
        ({"messages": REVIEW, "temperature": 3}, "temperature"),
        ({"messages": REVIEW, "max_tokens": "many"}, "max_tokens"),
        ({"messages": REVIEW, "stop": [1]}, "stop"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, None),
    ],
    ids=["none", "empty", "role", "stream", "top-logprobs", "temperature", "max-tokens", "stop", "image"],
)
async def test_bad_requests_get_an_openai_shaped_400_naming_the_field(served, body, param):
    async with httpx.AsyncClient(base_url=served, timeout=60) as http:
        response = await http.post("/v1/chat/completions", json=body)
        stats = (await http.get("/stats")).json()
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    if param is not None:
        assert error["param"] == param and param in error["message"]
    assert stats["requests"] == 1 and stats["failed"] == 1 and stats["completed"] == 0


async def test_a_body_that_is_not_json_is_a_400(served):
    async with httpx.AsyncClient(base_url=served, timeout=60) as http:
        response = await http.post("/v1/chat/completions", content=b"{not json")
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


async def test_a_prompt_longer_than_the_context_is_a_400_with_the_backends_reason(client):
    import openai

    with pytest.raises(openai.BadRequestError, match="context window"):
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "the movie " * 400}], max_tokens=4
        )


async def test_concurrent_requests_are_batched_by_the_backend_and_counted(served, backend):
    bodies = [
        {"messages": [{"role": "user", "content": f"review {i}: the film was fun"}], "max_tokens": 3}
        for i in range(8)
    ]
    backend._batcher.batch_sizes.clear()
    async with httpx.AsyncClient(base_url=served, timeout=60) as http:
        replies = await asyncio.gather(*(http.post("/v1/chat/completions", json=b) for b in bodies))
        stats = (await http.get("/stats")).json()
        models = (await http.get("/v1/models")).json()
    assert all(r.status_code == 200 for r in replies)
    assert max(backend._batcher.batch_sizes) > 1
    assert stats["requests"] == stats["completed"] == 8 and stats["failed"] == 0
    assert stats["completion_tokens"] == sum(r.json()["usage"]["completion_tokens"] for r in replies)
    assert [m["id"] for m in models["data"]] == ["local/tiny"]


def test_parse_maps_roles_joins_text_parts_and_prefers_max_completion_tokens():
    request, n = parse_chat_request(
        {
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "a "}, {"type": "text", "text": "b"}]},
            ],
            "max_tokens": 5,
            "max_completion_tokens": 9,
            "stop": "END",
            "top_logprobs": 2,
        }
    )
    assert request.messages == (("system", "Be brief."), ("user", "a b"))
    assert request.max_tokens == 9 and request.stop == ("END",) and n == 1
    assert request.logprobs and request.top_logprobs == 2 and request.temperature == 1.0
    with pytest.raises(RequestError, match=r"messages\[0\]\.content"):
        parse_chat_request({"messages": [{"role": "user", "content": None}]})
