"""Delimiting judged text as data, so a candidate cannot speak to its judge.

Judge rubrics wrap every piece of judged text in a data tag (``<candidate_prompt>`` ...
``</candidate_prompt>``) and tell the judge never to follow instructions inside one. That only holds
if the data cannot close the tag itself. ``neutralize`` escapes anything in the data that could read
as one of our data tags: any case, spaces or separators inside the name, fullwidth or other
angle-bracket lookalikes, invisible format characters spliced in, with or without the closing
bracket. The escaped form stays readable (``&lt;/candidate_prompt&gt;``), so the judge still sees
that the text tried to break out.
"""

from __future__ import annotations

import re
import unicodedata

from prompts import Template

__all__ = ["DATA_TAGS", "check_delimited_template", "neutralize"]

#: Tag names that mark data in judge templates; a template variable with one of these names must
#: appear only as ``<name>\n{{ name }}\n</name>``.
DATA_TAGS = ("candidate_prompt", "candidate_output", "task_input", "task_description", "reference_answer")

# Characters that may render or be read as angle brackets once normalised.
_LT = "<\u2039\u3008\u27e8\u2329\u00ab\u276e\u29fc"
_GT = ">\u203a\u3009\u27e9\u232a\u00bb\u276f\u29fd"


def _name_pattern(tag: str) -> str:
    # "candidate_prompt" also matches "Candidate Prompt", "candidate-prompt", "candidateprompt".
    return r"[\s_\-.]*".join(re.escape(part) for part in tag.split("_"))


_NAMES = "|".join(_name_pattern(t) for t in DATA_TAGS)
# The optional tail takes attributes only when a closing bracket follows, so no following text is eaten.
_TAG_LOOKALIKE = re.compile(
    rf"[{_LT}]\s*(/?)\s*({_NAMES})(?![A-Za-z0-9])(?:[^{_LT}{_GT}\n]{{0,40}}[{_GT}])?",
    re.IGNORECASE,
)


def _skeleton(text: str) -> tuple[str, list[int]]:
    """NFKC-fold ``text`` char by char, dropping invisible format characters, keeping a map to the original.

    Returns:
        The folded text and, for each of its characters, the index of the original character it came from.
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for folded in unicodedata.normalize("NFKC", char):
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _canonical_name(matched_name: str) -> str:
    squashed = re.sub(r"[\s_\-.]", "", matched_name).lower()
    for tag in DATA_TAGS:
        if tag.replace("_", "") == squashed:
            return tag
    return squashed


def neutralize(text: str) -> str:
    """Escape every data-tag lookalike in ``text``.

    Args:
        text: judged text (a candidate prompt, an output, an input).

    Returns:
        The text with each lookalike replaced by ``&lt;name&gt;`` or ``&lt;/name&gt;``, the rest unchanged.
    """
    skeleton, origin = _skeleton(text)
    pieces: list[str] = []
    cursor = 0
    for match in _TAG_LOOKALIKE.finditer(skeleton):
        start = origin[match.start()]
        end = origin[match.end() - 1] + 1
        if start < cursor:  # two matches folded from one original character; the first one covers it
            continue
        pieces.append(text[cursor:start])
        pieces.append(f"&lt;{match.group(1)}{_canonical_name(match.group(2))}&gt;")
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def check_delimited_template(template: Template, control_variables: frozenset[str] = frozenset()) -> None:
    """Check that a judge template inserts every piece of data inside its own data tag.

    Args:
        template: the parsed template.
        control_variables: variables that are not data (e.g. the score bounds) and may appear anywhere.

    Raises:
        ValueError: a variable is neither a data tag nor a control variable, or a data variable is not
            inserted exactly once as ``<name>\\n{{ name }}\\n</name>``.
    """
    unknown = template.variables - set(DATA_TAGS) - control_variables
    if unknown:
        raise ValueError(
            f"judge template {template.name!r}: variables {sorted(unknown)} are neither data tags "
            f"{list(DATA_TAGS)} nor control variables {sorted(control_variables)}"
        )
    for name in template.variables & set(DATA_TAGS):
        uses = re.findall(rf"\{{\{{\s*{name}\s*\}}\}}", template.text)
        wrapped = re.findall(rf"<{name}>\n\{{\{{\s*{name}\s*\}}\}}\n</{name}>", template.text)
        if len(uses) != 1 or len(wrapped) != 1:
            raise ValueError(
                f"judge template {template.name!r}: data variable {name!r} must appear exactly once, "
                f"as <{name}>, a newline, {{{{ {name} }}}}, a newline, </{name}>"
            )
