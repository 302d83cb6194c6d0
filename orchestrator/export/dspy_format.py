"""The winner as a DSPy ``Predict`` state: ``dspy.Predict("input -> label").load(path)`` reads it
(checked against dspy 3.4.1). DSPy is not imported: the file is the JSON ``Predict.save`` writes."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.export.winner import ExportedWinner

__all__ = ["dspy_signature", "dspy_state"]


def dspy_signature(winner: ExportedWinner) -> str:
    """The signature string to load the state into, e.g. ``"input -> label"``."""
    inputs = winner.task.get("input_fields") or ["input"]
    return f"{', '.join(inputs)} -> {winner.task.get('label_field') or 'label'}"


def dspy_state(winner: ExportedWinner) -> dict[str, Any]:
    """The ``Predict`` state: our instruction as the signature's instructions, our demonstrations as
    its demos, fields in signature order (``Signature.load_state`` pairs them by position).

    ``metadata.dependency_versions`` is empty (nothing was saved by dspy, so there is no version to
    compare); ``metadata.promptfusion`` says where the prompt comes from.
    """
    inputs = winner.task.get("input_fields") or ["input"]
    output = winner.task.get("label_field") or "label"
    fields = [{"prefix": _prefix(name), "description": f"${{{name}}}"} for name in [*inputs, output]]
    return {
        "traces": [],
        "train": [],
        "demos": winner.demos,
        "signature": {"instructions": winner.instruction, "fields": fields},
        "lm": None,
        "metadata": {
            "dependency_versions": {},
            "promptfusion": {
                "run_id": winner.run_id,
                "signature": dspy_signature(winner),
                "labels": winner.task.get("labels"),
                "measured": winner.measured,
                "scorer_model": winner.models.get("scorer"),
            },
        },
    }


def _prefix(name: str) -> str:
    """DSPy's default field prefix: ``question`` -> ``Question:``, ``claim_text`` -> ``Claim Text:``."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").split()
    return " ".join(w if w.isupper() else w.capitalize() for w in words) + ":"
