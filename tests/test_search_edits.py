"""Edit operators without an LLM (``orchestrator.search.edits``): every edit stays within
``search.max_prompt_chars`` and is made of the parent, the stage's other instructions and what the
task says about itself, so no split's text can reach a prompt; edits are recorded as an operator."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.runner import optimize_async
from orchestrator.search.edits import (
    _SYNONYMS,
    EDIT_KINDS,
    TaskKnowledge,
    edit_instruction,
    label_sentence,
    split_phrases,
)
from tests.test_search_loop import _campaign

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)
_PHRASE = st.lists(_WORD, min_size=1, max_size=6).map(" ".join)
_INSTRUCTION = st.lists(
    st.tuples(_PHRASE, st.sampled_from([".", ",", ";", ":", "?", ""])), min_size=1, max_size=6
).map(lambda parts: " ".join(p + end for p, end in parts))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@settings(max_examples=300, deadline=None)
@given(
    parent=_INSTRUCTION,
    pool=st.lists(_INSTRUCTION, max_size=4),
    labels=st.lists(_WORD, max_size=4, unique=True),
    description=_INSTRUCTION,
    max_chars=st.integers(min_value=20, max_value=200),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_an_edit_fits_max_chars_and_is_made_only_of_its_inputs(
    parent, pool, labels, description, max_chars, seed
):
    knowledge = TaskKnowledge(labels=tuple(labels), description=description)
    made = edit_instruction(parent, pool, knowledge, random.Random(seed), max_chars=max_chars)
    if made is None:
        return
    text, kind = made
    assert kind in EDIT_KINDS
    assert 0 < len(text) <= max_chars
    assert text.strip() != parent.strip()
    allowed = _words(" ".join([parent, *pool, description, label_sentence(labels) if labels else ""]))
    allowed |= {word for pair in _SYNONYMS for word in pair}
    assert _words(text) <= allowed  # nothing from anywhere else (no example, no split)


def test_the_label_edit_names_every_label_and_comes_first():
    knowledge = TaskKnowledge(
        labels=("positive", "negative"), description="Classify the review. It is short."
    )
    text, kind = edit_instruction(
        "Classify the sentiment of the review.", [], knowledge, random.Random(3), max_chars=200
    )
    assert kind == "labels"
    assert text == "Classify the sentiment of the review. Answer with exactly one word: positive or negative."
    # Once the labels are named, the next knowledge edit is the description; then the parent's own.
    again, kind = edit_instruction(text, [], knowledge, random.Random(3), max_chars=200)
    assert kind == "describe" and again.startswith(("It is short.", "Classify the review."))
    assert label_sentence(["a b", "c", "d"]) == "Answer with exactly one of: a b, c or d."
    assert split_phrases("First, do this. Then: that; done") == [
        "First,",
        "do this.",
        "Then:",
        "that;",
        "done",
    ]


def test_an_edit_that_would_exceed_the_limit_is_not_made():
    knowledge = TaskKnowledge(labels=("positive", "negative"))
    parent = "Classify the sentiment, briefly."
    made = edit_instruction(parent, [], knowledge, random.Random(0), max_chars=len(parent) + 5)
    assert made is not None and made[1] != "labels" and len(made[0]) <= len(parent) + 5
    assert edit_instruction("Go on.", [], knowledge, random.Random(0), max_chars=12) is None


async def test_edits_in_a_run_stay_short_hold_no_split_text_and_are_counted(tmp_path, sim_server):
    campaign = _campaign(tmp_path, sim_server, edits=0.5, stage2_iterations=2, max_prompt_chars=120)
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    edited = [c for c in result.history if c["origin"] == "edited"]
    assert edited, "no edited candidate"
    for cand in edited:
        assert len(cand["prompt"]) <= 120
        # Every example's input reads "Claim <i> of <task>: item <j> holds [gold: ...]".
        assert not re.search(r"claim \d+ of|\[gold|item \d+ holds", cand["prompt"].lower()), cand["prompt"]
    labelled = ("Answer with exactly one word: no or yes.", "Answer with exactly one word: yes or no.")
    assert any(sentence in c["prompt"] for c in edited for sentence in labelled)
    stats = result.final["operators"]["edited"]
    assert stats["candidates"] == len(edited)
    assert stats["accepted"] == sum(bool(c.get("accepted")) for c in edited)
    # No reference-LLM request was spent on an edit: every proposal request is a fresh or reflective one.
    from orchestrator.report import build_report
    from orchestrator.store import RunStore

    markdown = build_report(RunStore(campaign.run.store), result.run_id, fmt="md", environ={})
    assert f"edited {stats['accepted']}/{stats['candidates']} accepted" in markdown
