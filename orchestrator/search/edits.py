"""Edit operators that need no LLM, in the spirit of GrIPS (Prasad et al., 2023): a parent instruction
is cut into phrases, and one edit changes it at the phrase level.

GrIPS deletes, swaps, paraphrases (with a paraphrase model) and adds back deleted phrases. A 135M
reference model writes noise (issue 20), so these edits work without one, and add what a small model
is measurably sensitive to: the task's own knowledge (its answer labels, sentences of its
description). The edits:

- ``labels``: append "Answer with exactly one word: X or Y." (the task's labels), when the parent
  does not already name every label;
- ``describe``: insert a sentence of the task's description that the parent lacks;
- ``add``: insert a phrase from another scored instruction of the stage (GrIPS adds phrases it
  deleted earlier; other candidates' phrases include those and let two good parts meet);
- ``delete``: drop one phrase; ``swap``: exchange two; ``reorder``: move one phrase to the front;
- ``paraphrase``: replace one word or phrase by a fixed synonym (a small table, no model).

Everything an edit inserts comes from the parent, the stage's earlier instructions, the task's labels
and its description: never from the examples, so no split's text can enter a prompt. An edit whose
result would exceed ``max_chars`` is not made.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["EDIT_KINDS", "TaskKnowledge", "edit_instruction", "label_sentence", "split_phrases"]

# Knowledge-inserting edits come first in a round: a parent that lacks the task's labels or
# description is missing what the task knows, which reordering its own words cannot supply.
EDIT_KINDS = ("labels", "describe", "add", "delete", "swap", "paraphrase", "reorder")
_KNOWLEDGE = ("labels", "describe")

# Phrase boundaries: sentence ends, semicolons, colons and commas (GrIPS uses a constituency parser;
# punctuation keeps this dependency-free and is where instructions written by people break).
_BOUNDARY = re.compile(r"(?<=[.!?;:,])\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# Synonyms for words that instructions use often; each side maps to the other.
_SYNONYMS = (
    ("classify", "categorize"),
    ("determine", "decide"),
    ("identify", "determine"),
    ("answer", "respond"),
    ("review", "text"),
    ("question", "query"),
    ("sentiment", "opinion"),
    ("label", "category"),
    ("given", "following"),
    ("exactly", "only"),
    ("whether", "if"),
    ("statement", "claim"),
    ("read", "consider"),
    ("choose", "select"),
)


@dataclass(frozen=True)
class TaskKnowledge:
    """What a task says about itself (never its examples).

    Attributes:
        labels: the answer labels of a classification task (empty: free-form).
        description: the task's one- or two-sentence description.
    """

    labels: tuple[str, ...] = ()
    description: str = ""


def split_phrases(text: str) -> list[str]:
    """The phrases of ``text``, split after sentence ends, semicolons, colons and commas."""
    return [part.strip() for part in _BOUNDARY.split(text.strip()) if part.strip()]


def _join(phrases: Sequence[str]) -> str:
    """Phrases back into one instruction: a phrase without closing punctuation gets a full stop before
    the next, and the first letter after a full stop is a capital."""
    out: list[str] = []
    for phrase in phrases:
        if out and out[-1][-1] not in ".!?;:,":
            out[-1] += "."
        if not out or out[-1][-1] in ".!?":
            phrase = phrase[:1].upper() + phrase[1:]
        out.append(phrase)
    text = " ".join(out)
    return text if not text or text[-1] in ".!?" else text.rstrip(",;:") + "."


def label_sentence(labels: Sequence[str]) -> str:
    """The explicit answer format: "Answer with exactly one word: positive or negative."."""
    names = list(labels)
    if len(names) <= 2:
        choice = " or ".join(names)
    else:
        choice = ", ".join(names[:-1]) + " or " + names[-1]
    many = any(" " in name for name in names)
    return f"Answer with exactly one {'of' if many else 'word'}: {choice}."


def _names_all_labels(text: str, labels: Sequence[str]) -> bool:
    lowered = text.lower()
    return all(re.search(rf"\b{re.escape(label.lower())}\b", lowered) for label in labels)


def _applicable(parent: str, phrases: list[str], pool: list[str], knowledge: TaskKnowledge) -> list[str]:
    kinds = []
    if knowledge.labels and not _names_all_labels(parent, knowledge.labels):
        kinds.append("labels")
    if _missing_sentences(parent, knowledge.description):
        kinds.append("describe")
    if _foreign_phrases(phrases, pool):
        kinds.append("add")
    if len(phrases) >= 2:
        kinds += ["delete", "swap", "reorder"]
    if _synonym_spots(parent):
        kinds.append("paraphrase")
    return kinds


def _missing_sentences(parent: str, description: str) -> list[str]:
    lowered = parent.lower()
    return [s.strip() for s in _SENTENCE.split(description.strip()) if s.strip() and s.lower() not in lowered]


def _foreign_phrases(phrases: list[str], pool: Sequence[str]) -> list[str]:
    own = {p.lower().rstrip(".!?;:,") for p in phrases}
    seen: dict[str, str] = {}
    for text in pool:
        for phrase in split_phrases(text):
            key = phrase.lower().rstrip(".!?;:,")
            if key and key not in own:
                seen.setdefault(key, phrase)
    return list(seen.values())


def _synonym_spots(text: str) -> list[tuple[str, str]]:
    lowered = text.lower()
    spots = []
    for first, second in _SYNONYMS:
        for word, other in ((first, second), (second, first)):
            if re.search(rf"\b{word}\b", lowered):
                spots.append((word, other))
    return spots


def _apply(kind: str, parent: str, phrases: list[str], pool: list[str], knowledge: TaskKnowledge,
           rng: random.Random) -> str:  # fmt: skip
    if kind == "labels":
        return _join([*phrases, label_sentence(knowledge.labels)])
    if kind == "describe":
        sentence = rng.choice(_missing_sentences(parent, knowledge.description))
        return _join([sentence, *phrases])
    if kind == "add":
        phrase = rng.choice(_foreign_phrases(phrases, pool))
        at = rng.randint(0, len(phrases))
        return _join([*phrases[:at], phrase, *phrases[at:]])
    if kind == "delete":
        at = rng.randrange(len(phrases))
        return _join(phrases[:at] + phrases[at + 1 :])
    if kind == "swap":
        i, j = rng.sample(range(len(phrases)), 2)
        swapped = list(phrases)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        return _join(swapped)
    if kind == "reorder":
        at = rng.randrange(1, len(phrases))
        return _join([phrases[at], *phrases[:at], *phrases[at + 1 :]])
    if kind == "paraphrase":
        word, other = rng.choice(_synonym_spots(parent))

        def keep_case(match: re.Match[str]) -> str:
            found = match.group(0)
            return other.capitalize() if found[:1].isupper() else other

        return re.sub(rf"\b{word}\b", keep_case, parent, count=1, flags=re.I)
    raise ValueError(f"unknown edit {kind!r}; use one of {list(EDIT_KINDS)}")


def edit_instruction(
    parent: str,
    pool: Sequence[str],
    knowledge: TaskKnowledge,
    rng: random.Random,
    *,
    max_chars: int,
    avoid: Sequence[str] = (),
) -> tuple[str, str] | None:
    """One phrase-level edit of ``parent``.

    Args:
        parent: the instruction to edit.
        pool: the stage's other scored instructions (phrases for ``add``).
        knowledge: the task's labels and description.
        rng: the edit's random source (seeded by the caller).
        max_chars: no result longer than this.
        avoid: edit kinds to try last (those already made this round, so a round spreads its edits).

    Returns:
        ``(edited instruction, kind)``, or None when no edit changes the parent within ``max_chars``.
    """
    phrases = split_phrases(parent)
    kinds = _applicable(parent, phrases, list(pool), knowledge)
    rng.shuffle(kinds)
    # Edits not yet made this round first; among them the labels, then the description, then the
    # parent's own phrases in random order.
    kinds.sort(key=lambda kind: (kind in avoid, _KNOWLEDGE.index(kind) if kind in _KNOWLEDGE else 2))
    for kind in kinds:
        edited = _apply(kind, parent, phrases, list(pool), knowledge, rng).strip()
        if edited and edited != parent.strip() and len(edited) <= max_chars:
            return edited, kind
    return None
