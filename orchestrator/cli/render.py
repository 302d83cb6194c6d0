"""Small rendering helpers shared by the CLI commands (rich tables, error lines)."""

from __future__ import annotations

from orchestrator.errors import PromptfusionError


def error_line(exc: BaseException) -> str:
    """One readable line for an error: ours as they are, others with their type and a hint."""
    if isinstance(exc, PromptfusionError):
        return f"error: {exc}"
    try:
        from orchestrator.backends.base import LLMError
    except ImportError:  # pragma: no cover - base has no heavy imports
        LLMError = ()  # type: ignore[assignment]
    if isinstance(exc, LLMError):
        return f"error: {type(exc).__name__}: {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"error: {type(exc).__name__}: {text} (run with --debug for the traceback)"


def console(stderr: bool = False):
    """A rich console (imported lazily so --help stays fast)."""
    from rich.console import Console

    return Console(stderr=stderr)
