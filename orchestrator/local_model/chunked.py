"""Embedded models that ship as raw byte chunks spread over several packages.

Package indexes cap a file's size, so a larger GGUF file may ship as ``data/partNN.bin`` inside
several packages. The chunks are concatenated once into the cache and the whole file's sha256 is
checked against the published value before anything reads it: the carrying packages are not from
the model's authors, so the hash, not the package name, is what says which model this is. A file
that does not match is deleted and never loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ChunkedModel", "assemble_chunked_gguf", "chunk_paths"]

_BLOCK = 1 << 20


@dataclass(frozen=True)
class ChunkedModel:
    """A GGUF file cut into chunks, one per package.

    Attributes:
        name: the name users write after ``local/``.
        gguf_file: the assembled file's name in the cache.
        chunks: ``(package, path inside the package)`` in concatenation order.
        sha256: the published sha256 of the whole GGUF file.
        size: its size in bytes.
        install: the command that installs the chunks (shown when they are missing).
        license_file: the upstream licence text shipped with promptfusion, beside this module.
    """

    name: str
    gguf_file: str
    chunks: tuple[tuple[str, str], ...]
    sha256: str
    size: int
    install: str
    license_file: str


def chunk_paths(model: ChunkedModel) -> list[Path]:
    """The chunk files, located without importing their packages.

    Raises:
        FileNotFoundError: a package or a chunk file is missing; one line naming the install command.
    """
    paths = []
    for package, relative in model.chunks:
        spec = importlib.util.find_spec(package)
        path = Path(spec.origin).parent / relative if spec is not None and spec.origin else None
        if path is None or not path.is_file():
            raise FileNotFoundError(
                f"model {model.name!r} is not installed (package {package} missing); "
                f"install it with: {model.install}"
            )
        paths.append(path)
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def assemble_chunked_gguf(model: ChunkedModel, models_dir: Path) -> Path:
    """The assembled, verified GGUF file in ``models_dir``, concatenating the chunks on first use.

    The hash is checked on every call (about a second for 0.5 GB), so a file changed in the cache
    after assembly is refused too.

    Raises:
        FileNotFoundError: a chunk is missing (see ``chunk_paths``).
        ValueError: the assembled file's size or sha256 differs from the published one.
    """
    target = models_dir / model.gguf_file
    if not target.is_file():
        parts = chunk_paths(model)
        models_dir.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{model.gguf_file}.", dir=models_dir)
        try:
            with os.fdopen(handle, "wb") as out:
                for part in parts:
                    with part.open("rb") as chunk:
                        while block := chunk.read(_BLOCK):
                            out.write(block)
            os.chmod(staging, 0o644)  # mkstemp makes it private; the cache may be shared
            os.replace(staging, target)  # atomic: a reader never sees a half-written file
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
    size, digest = target.stat().st_size, _sha256(target)
    if size != model.size or digest != model.sha256:
        target.unlink()
        raise ValueError(
            f"model {model.name!r}: the assembled GGUF has sha256 {digest} ({size} bytes), not the "
            f"published {model.sha256} ({model.size} bytes); deleted, not loaded"
        )
    return target
