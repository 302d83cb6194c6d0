"""Shortening a text for a message, a meta-prompt or a table cell: one rule, used everywhere."""

from __future__ import annotations

__all__ = ["clip"]


def clip(text: object, width: int, *, collapse: bool = True, ellipsis: str = "...") -> str:
    """``text`` in at most ``width`` characters, ending in ``ellipsis`` when it was cut.

    Args:
        text: anything; ``str()`` of it is clipped.
        width: the most characters returned (``ellipsis`` included).
        collapse: turn every run of whitespace (newlines too) into one space first.
        ellipsis: what marks a cut.
    """
    text = str(text)
    if collapse:
        text = " ".join(text.split())
    return text if len(text) <= width else text[: width - len(ellipsis)] + ellipsis
