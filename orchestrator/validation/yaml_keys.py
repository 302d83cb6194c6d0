"""Duplicate keys in a YAML mapping: PyYAML keeps the last silently, so ``search:`` twice drops the first."""

from __future__ import annotations

from typing import Any

import yaml

from orchestrator.config.messages import _dotted
from orchestrator.errors import ConfigError

__all__ = ["check_duplicate_keys"]


def check_duplicate_keys(root: Any, source: str) -> None:
    """Refuse a mapping, at any depth, that holds the same key twice.

    Args:
        root: the file's node tree from ``yaml.compose`` (None for an empty file).
        source: the file name, for the message.

    Raises:
        ConfigError: ``file:LINE: path.key: duplicate key (also at line FIRST; ...)``.
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())] if root is not None else []
    while stack:
        node, loc = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in seen:
                    raise ConfigError(
                        f"{source}:{line}: {_dotted((*loc, name))}: duplicate key (also at line "
                        f"{seen[name]}; YAML would keep only the last: merge them into one)"
                    )
                if name is not None:
                    seen[name] = line
                stack.append((value, (*loc, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*loc, index)) for index, item in enumerate(node.value))
