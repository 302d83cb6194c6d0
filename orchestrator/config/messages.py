"""Load errors a person can act on: ``file:line``, the dotted path, and a suggestion for a typo."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel

from orchestrator.config.campaign import Campaign


def _describe(error: Mapping[str, Any], source: str, root: Any) -> str:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    path = _dotted(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if key in ("api_key", "key", "apikey", "openai_api_key", "anthropic_api_key"):
            message = (
                "API keys never go in the campaign file: "
                "put the key in an environment variable and name it in api_key_env"
            )
        else:
            message = "unknown key" + _suggestion(key, _known_keys(loc[:-1]))
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if "input" in error and kind not in ("value_error",) and not isinstance(error["input"], (dict, list)):
            message += f" (got {error['input']!r})"
    prefix = _where(source, root, loc)
    return f"{prefix}: {path}: {message}" if path else f"{prefix}: {message}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _suggestion(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys: {', '.join(sorted(known))})" if known else ""


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` (walking the Campaign schema)."""
    model: Any = Campaign
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _where(source: str, root: Any, loc: tuple[Any, ...]) -> str:
    """``file:line`` of the deepest YAML node along ``loc`` that exists."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    for part in loc:
        if node is None:
            break
        node, key_line = _child(node, part)
        if key_line is not None:
            line = key_line
    return f"{source}:{line}" if line else source


def _child(node: Any, part: Any) -> tuple[Any, int | None]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value, key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None, None
