"""One-time conversion of a GGUF file into a Hugging Face directory that reloads in about a second.

transformers dequantizes a GGUF file on every load (~40 s for SmolLM2-135M on 2 cores), and
``save_pretrained`` refuses a GGUF-loaded model. So the config (minus ``quantization_config``),
the weights (safetensors) and the tokenizer are written once into the cache.

The conversion is atomic and safe when two processes race: it holds a file lock, writes into a
temporary sibling directory and renames it into place; if the lock is not honoured (some network
file systems) the first rename wins and the loser discards its copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from orchestrator.local_model.chunked import chunk_paths
from orchestrator.local_model.source import (
    CHUNKED_MODELS,
    EMBEDDED_MODELS,
    embedded_gguf_path,
    resolve_cache_root,
)

__all__ = ["converted_dir_for", "convert_gguf", "ensure_embedded_model", "ensure_gguf_converted"]

logger = logging.getLogger(__name__)

MARKER_FILE = "promptfusion-conversion.json"
LOCK_TIMEOUT_S = 900.0


def ensure_embedded_model(
    cache_dir: str | os.PathLike[str] | None = None, name: str = "smollm2-135m-instruct"
) -> Path:
    """Return the directory of the converted embedded model, converting it on first use.

    Args:
        cache_dir: the cache root (default: ``$PROMPTFUSION_CACHE`` or ``~/.cache/promptfusion``).
        name: the embedded model name.

    Returns:
        A directory loadable with ``AutoModelForCausalLM.from_pretrained``.

    Raises:
        FileNotFoundError: the package carrying the GGUF file is not installed.
        ValueError: a chunked model's assembled file does not have the published sha256.
    """
    if name in CHUNKED_MODELS:
        chunk_paths(CHUNKED_MODELS[name])  # still installed? (else the one-line install hint)
        target = resolve_cache_root(cache_dir) / "models" / name
        if _is_complete(target):  # converted from a file whose sha256 was checked; not read again
            return target
        return _ensure_converted(embedded_gguf_path(name, cache_dir), target)
    embedded = EMBEDDED_MODELS[name]
    target = resolve_cache_root(cache_dir) / "models" / embedded.name
    return _ensure_converted(embedded_gguf_path(embedded.name), target)


def ensure_gguf_converted(
    gguf_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Return the converted directory for any GGUF file, converting it on first use.

    Args:
        gguf_path: the GGUF file.
        cache_dir: the cache root.

    Returns:
        The converted directory, keyed by the file's path, size and modification time.
    """
    path = Path(gguf_path).expanduser().resolve()
    return _ensure_converted(path, converted_dir_for(path, cache_dir))


def converted_dir_for(gguf_path: Path, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory a GGUF file converts into (changes when the file changes)."""
    stat = gguf_path.stat()
    key = hashlib.sha256(f"{gguf_path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return resolve_cache_root(cache_dir) / "models" / f"gguf-{gguf_path.stem.lower()}-{key}"


def _ensure_converted(gguf_path: Path, target: Path) -> Path:
    if _is_complete(target):
        return target
    from filelock import FileLock  # a dependency of transformers/huggingface_hub

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock"), timeout=LOCK_TIMEOUT_S):
        if _is_complete(target):  # another process finished while we waited
            return target
        if target.exists():  # a half-written directory cannot exist (rename is atomic); be safe anyway
            shutil.rmtree(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            staging.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
            convert_gguf(gguf_path, staging)
            try:
                os.rename(staging, target)
            except OSError:
                if not _is_complete(target):
                    raise
                logger.info("another process converted %s first; keeping its copy", target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return target


def _is_complete(target: Path) -> bool:
    return (target / MARKER_FILE).is_file()


def convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Dequantize a GGUF file with transformers and write a plain Hugging Face directory.

    Args:
        gguf_path: the GGUF file.
        out_dir: an existing, empty directory to write into. The marker file is written last.

    Raises:
        OSError, ValueError: transformers cannot read the file.
    """
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from soft_prompts.quiet_loading import quiet_progress_bars

    logger.warning("converting %s once into %s (about half a minute)", gguf_path.name, out_dir.parent)
    source_dir, file_name = str(gguf_path.parent), gguf_path.name
    with quiet_progress_bars():
        tokenizer = AutoTokenizer.from_pretrained(source_dir, gguf_file=file_name)
        model = AutoModelForCausalLM.from_pretrained(source_dir, gguf_file=file_name, dtype=torch.float32)
    config = model.config
    if hasattr(config, "quantization_config"):
        # The weights are already dequantized; keeping it would make transformers expect GGUF again.
        del config.quantization_config
    config.save_pretrained(out_dir)
    if model.generation_config is not None:
        model.generation_config.save_pretrained(out_dir)
    # save_model drops the tied lm_head copy that save_file would refuse.
    save_model(model, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save_pretrained(out_dir)
    marker = {
        "source": gguf_path.name,
        "source_bytes": gguf_path.stat().st_size,
        "dtype": "float32",
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    (out_dir / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n")
