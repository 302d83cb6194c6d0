"""promptfusion's orchestrator: campaigns, backends, the dual-stage search, the CLI.

The public API is imported lazily so that ``promptfusion --help`` stays fast::

    from orchestrator import export_winner, load_campaign, optimize, resume
"""

from __future__ import annotations

# Nothing is imported here at run time: ``python -m orchestrator.cli.app`` imports this package
# before the CLI can catch a Ctrl-C, so the window in which one shows a traceback stays microseconds.

__all__ = [
    "Campaign",
    "RunResult",
    "export_winner",
    "load_campaign",
    "optimize",
    "optimize_async",
    "resume",
    "resume_async",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        from orchestrator import api

        return getattr(api, name)
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
