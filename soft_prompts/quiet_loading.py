"""Loading weights without transformers' progress bars (they draw over the CLI's live display)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["quiet_progress_bars"]


@contextlib.contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Switch transformers' (and huggingface_hub's) tqdm bars off for the block, then restore them."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
