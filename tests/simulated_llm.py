"""A deterministic simulated LLM behind the fake server, for testing the search loop end to end.

As the *reference* LLM (a request whose prompt asks for ``<prompt>...</prompt>``) it writes a candidate
instruction from phrases chosen by the request's ``seed``. As the *scorer* it answers the example with
a probability of being right that grows with the number of helpful phrases in the system prompt, so a
search that finds those phrases measurably improves. Every answer is a pure function of the request.

Synthetic tasks put the gold label in the input (``[gold: yes]``) so the scorer can be right on purpose;
the evaluator never sees that trick, it only sees answers.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from pathlib import Path
from typing import Any

from tests.fakeserver import Reply

HELPFUL = ("read the claim carefully", "check the evidence", "answer yes or no", "think step by step")
NEUTRAL = ("be concise", "you are an assistant", "respond politely", "use plain words", "stay calm")
LABELS = ("yes", "no")


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content or "")


def propose(seed: int) -> str:
    rng = random.Random(seed)
    phrases = rng.sample(HELPFUL, rng.randint(0, 3)) + rng.sample(NEUTRAL, rng.randint(1, 2))
    rng.shuffle(phrases)
    return "<prompt>" + ". ".join(p.capitalize() for p in phrases) + ".</prompt>"


def p_correct(system: str) -> float:
    hits = sum(phrase in system.lower() for phrase in HELPFUL)
    return min(0.95, 0.5 + 0.12 * hits)


def answer(system: str, user: str) -> tuple[str, float]:
    """(label, probability given to it) for one scorer request."""
    gold = "yes" if "[gold: yes]" in user else "no"
    other = "no" if gold == "yes" else "yes"
    right = _unit(system, user) < p_correct(system)
    confidence = 0.55 + 0.4 * _unit("conf", system, user)
    return (gold if right else other), confidence


def respond(body: dict[str, Any]) -> Reply:
    messages = body.get("messages") or []
    system = _text(body.get("system")) or " ".join(
        _text(m.get("content")) for m in messages if m.get("role") == "system"
    )
    user = _text(messages[-1].get("content")) if messages else ""
    if "<prompt>" in user:
        return Reply(text=propose(int(body.get("seed") or 0)))
    label, confidence = answer(system, user)
    other = "no" if label == "yes" else "yes"
    top = [(label, math.log(confidence)), (other, math.log(1 - confidence))]
    return Reply(text=label, top_logprobs=top, prompt_tokens=40, completion_tokens=1)


def write_tasks(
    folder: Path, names=("claims_a", "claims_b", "claims_target"), n: int = 100
) -> dict[str, Path]:
    """Synthetic yes/no tasks as JSONL files; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for t, name in enumerate(names):
        path = folder / f"{name}.jsonl"
        with path.open("w") as out:
            for i in range(n):
                gold = LABELS[(i * 7 + t) % 2]
                row = {
                    "input": f"Claim {i} of {name}: item {i * 13 % 17} holds [gold: {gold}]",
                    "label": gold,
                }
                out.write(json.dumps(row) + "\n")
        paths[name] = path
    return paths
