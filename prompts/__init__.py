"""Prompt templates shipped as files, and a strict loader.

Templates live in ``prompts/templates/<name>.txt`` (or ``.md``) and use ``{{ variable }}`` placeholders.
Rendering is strict: a missing or an unknown variable raises ``TemplateError``. Values are inserted
as plain data in a single pass, so text that comes from a dataset or an LLM can never act as
template code (a value containing ``{{ x }}`` is inserted verbatim).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Template", "TemplateError", "available", "load_template", "render"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SUFFIXES = (".txt", ".md")


class TemplateError(ValueError):
    """A template is missing, or was rendered with missing or unknown variables."""


@dataclass(frozen=True)
class Template:
    """A parsed template: its name, raw text and the set of variables it needs."""

    name: str
    text: str
    variables: frozenset[str]

    @classmethod
    def from_text(cls, name: str, text: str) -> Template:
        return cls(name=name, text=text, variables=frozenset(_PLACEHOLDER.findall(text)))

    def render(self, **values: object) -> str:
        """Fill every placeholder.

        Raises:
            TemplateError: a variable the template needs is missing, or one it does not use is given.
        """
        missing = self.variables - values.keys()
        unknown = values.keys() - self.variables
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {sorted(missing)}")
            if unknown:
                parts.append(f"unknown {sorted(unknown)}")
            raise TemplateError(f"template {self.name!r}: " + ", ".join(parts))
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.text)


def _templates_dir():
    return resources.files(__name__).joinpath("templates")


def available() -> list[str]:
    """Names of the templates shipped with the package."""
    names = []
    for entry in _templates_dir().iterdir():
        for suffix in _SUFFIXES:
            if entry.name.endswith(suffix):
                names.append(entry.name[: -len(suffix)])
    return sorted(names)


@cache
def load_template(name: str) -> Template:
    """Load a shipped template by name (without suffix).

    Raises:
        TemplateError: no template of that name exists.
    """
    base = _templates_dir()
    for suffix in _SUFFIXES:
        path = base.joinpath(name + suffix)
        if path.is_file():
            return Template.from_text(name, path.read_text(encoding="utf-8"))
    raise TemplateError(f"no template named {name!r}; available: {available()}")


def render(name: str, **values: object) -> str:
    """Load template ``name`` and render it strictly with ``values``."""
    return load_template(name).render(**values)
