"""``scoring.instruction_turn``: where the prompt sits in the scored chat, from the campaign to the scorer."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from evaluators import INSTRUCTION_TURNS, EvalConfig, Example, TaskSpec, evaluate_prompt, user_turn_messages
from orchestrator.errors import ConfigError
from orchestrator.loading import parse_campaign


class RecordingScorer:
    """A label scorer that records each chat and prefers 'pos' when the chat names both labels."""

    def __init__(self) -> None:
        self.chats: list[list[dict[str, str]]] = []

    async def score_labels(self, messages, labels):
        self.chats.append([dict(m) for m in messages])
        text = " ".join(m["content"] for m in messages)
        p = 0.9 if "pos or neg" in text and "good" in text else 0.2
        return SimpleNamespace(probs={"pos": p, "neg": 1 - p})


def test_user_turn_puts_the_prompt_before_the_input_in_one_user_message():
    example = Example("a good film", "pos")
    assert user_turn_messages("Answer pos or neg.", example) == [
        {"role": "user", "content": "Answer pos or neg.\n\na good film"}
    ]
    assert user_turn_messages("", example) == [{"role": "user", "content": "a good film"}]
    assert INSTRUCTION_TURNS["system"]("P", example)[0] == {"role": "system", "content": "P"}


def test_the_evaluator_scores_the_chat_the_renderer_writes():
    scorer = RecordingScorer()
    spec = TaskSpec(name="t", labels=("pos", "neg"))
    examples = [Example("a good film", "pos"), Example("a dull film", "neg")]
    report = asyncio.run(
        evaluate_prompt(
            "Answer pos or neg.",
            examples,
            spec,
            scorer,
            config=EvalConfig(scoring="label_scores"),
            render_messages=INSTRUCTION_TURNS["user"],
        )
    )
    assert [c[0]["role"] for c in scorer.chats] == ["user", "user"]
    assert [r.prediction for r in report.examples] == ["pos", "neg"]


CAMPAIGN = """
name: turn
models:
  reference: {{model: local/smollm2-135m-instruct}}
  scorer: {{model: local/smollm2-135m-instruct}}
tasks: {{source: [multiemo_en_polarity], target: multiemo_en_polarity}}
scoring: {{instruction_turn: {turn}}}
soft: {{enabled: {soft}}}
"""


def test_the_campaign_reads_the_turn_and_refuses_it_with_the_soft_stage_at_load():
    campaign = parse_campaign(CAMPAIGN.format(turn="user", soft="false"), source="turn.yaml", env={})
    assert campaign.scoring.instruction_turn == "user"
    assert parse_campaign(CAMPAIGN.format(turn="system", soft="true"), source="t.yaml", env={}).soft.enabled
    with pytest.raises(ConfigError) as refused:
        parse_campaign(CAMPAIGN.format(turn="user", soft="true"), source="turn.yaml", env={})
    assert "turn.yaml" in str(refused.value) and "soft.enabled" in str(refused.value)
    assert "instruction_turn" in str(refused.value)
    with pytest.raises(ConfigError) as bad:
        parse_campaign(CAMPAIGN.format(turn="assistant", soft="false"), source="turn.yaml", env={})
    assert "instruction_turn" in str(bad.value)
