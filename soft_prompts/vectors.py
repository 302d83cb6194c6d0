"""Task prompt vectors: create (tuned minus origin), store, list, combine, compare and apply.

A store is a directory::

    STORE/vectors/NAME.safetensors   one tensor "task_prompt_vector" (n_virtual, d)
    STORE/vectors/NAME.json          VectorMetadata
    STORE/origins/ORIGIN_ID.safetensors  one tensor "origin" (n_virtual, d)

Vectors are only comparable and addable when they share the origin and the model: Task Prompt Vectors reports
that combining vectors across origins collapses accuracy (TREC 95.5 -> 26.5), so :func:`combine_vectors`
refuses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from soft_prompts import arithmetic

VECTOR_TENSOR = "task_prompt_vector"
ORIGIN_TENSOR = "origin"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class VectorMetadata:
    """What is stored next to a vector.

    Attributes:
        name: the vector's file stem in the store.
        task: the task it was tuned on (``a+b`` for combinations).
        origin_id: content hash of the origin prompt it is relative to.
        model: id of the frozen model.
        n_virtual_tokens: rows.
        token_dim: hidden size.
        metrics: e.g. ``{"dev_accuracy": 0.81}``.
        sources: for combinations, the names and weights it was made from.
    """

    name: str
    task: str
    origin_id: str
    model: str
    n_virtual_tokens: int
    token_dim: int
    metrics: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskPromptVector:
    """A ``(n_virtual, d)`` fp32 vector and its metadata."""

    values: torch.Tensor
    metadata: VectorMetadata


@dataclass(frozen=True)
class SimilarityMatrix:
    """Cosine similarities between stored vectors: ``values[i, j]`` compares ``names[i]`` and ``names[j]``."""

    names: tuple[str, ...]
    values: torch.Tensor

    def as_rows(self) -> list[list[float]]:
        """The matrix as nested lists (JSON-friendly)."""
        return [[round(float(value), 6) for value in row] for row in self.values]


def tensor_id(tensor: torch.Tensor) -> str:
    """A 16-hex-digit content hash of an fp32 tensor (shape included): identifies origins."""
    data = tensor.detach().float().cpu().contiguous()
    digest = hashlib.sha256(str(tuple(data.shape)).encode())
    digest.update(data.numpy().tobytes())
    return digest.hexdigest()[:16]


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid vector name {name!r}: use letters, digits and . _ + -")
    return name


def create_task_vector(
    tuned: torch.Tensor,
    origin: torch.Tensor,
    name: str,
    task: str,
    model: str,
    metrics: dict[str, float] | None = None,
) -> TaskPromptVector:
    """``tuned - origin`` with its metadata.

    Raises:
        ValueError: shapes differ or the name is not a safe file stem.
    """
    if tuned.shape != origin.shape or tuned.dim() != 2:
        raise ValueError(f"create_task_vector: tuned {tuple(tuned.shape)} vs origin {tuple(origin.shape)}")
    metadata = VectorMetadata(
        name=_check_name(name),
        task=task,
        origin_id=tensor_id(origin),
        model=model,
        n_virtual_tokens=int(tuned.shape[0]),
        token_dim=int(tuned.shape[1]),
        metrics=dict(metrics or {}),
    )
    return TaskPromptVector(tuned.detach().float().cpu() - origin.detach().float().cpu(), metadata)


def save_origin(store_dir: str | Path, origin: torch.Tensor) -> str:
    """Store an origin prompt under its content hash; returns the id (idempotent)."""
    origin_id = tensor_id(origin)
    path = Path(store_dir) / "origins" / f"{origin_id}.safetensors"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({ORIGIN_TENSOR: origin.detach().float().cpu().contiguous()}, str(path))
    return origin_id


def load_origin(store_dir: str | Path, origin_id: str) -> torch.Tensor:
    """Load an origin by id.

    Raises:
        FileNotFoundError: the store has no such origin.
    """
    path = Path(store_dir) / "origins" / f"{origin_id}.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: origin {origin_id} not in the store")
    return load_file(str(path))[ORIGIN_TENSOR]


def save_vector(store_dir: str | Path, vector: TaskPromptVector, overwrite: bool = False) -> Path:
    """Write a vector and its metadata into the store; returns the ``.safetensors`` path.

    Raises:
        FileExistsError: a vector of that name exists and ``overwrite`` is False.
    """
    directory = Path(store_dir) / "vectors"
    directory.mkdir(parents=True, exist_ok=True)
    name = _check_name(vector.metadata.name)
    weights_path = directory / f"{name}.safetensors"
    if weights_path.exists() and not overwrite:
        raise FileExistsError(f"{weights_path}: exists (pass overwrite=True to replace it)")
    save_file({VECTOR_TENSOR: vector.values.detach().float().cpu().contiguous()}, str(weights_path))
    metadata = dataclasses.asdict(vector.metadata)
    (directory / f"{name}.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return weights_path


def _read_metadata(path: Path) -> VectorMetadata:
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from error
    known = {f.name for f in dataclasses.fields(VectorMetadata)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {unknown}")
    required = {f.name for f in dataclasses.fields(VectorMetadata) if f.default is dataclasses.MISSING}
    required -= {"metrics", "sources"}
    missing = sorted(required - set(raw))
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    raw["sources"] = tuple(raw.get("sources") or ())
    return VectorMetadata(**raw)


def load_vector(store_dir: str | Path, name: str) -> TaskPromptVector:
    """Load one vector by name.

    Raises:
        FileNotFoundError: no such vector.
        ValueError: metadata and tensor disagree.
    """
    directory = Path(store_dir) / "vectors"
    weights_path = directory / f"{_check_name(name)}.safetensors"
    if not weights_path.is_file():
        available = ", ".join(meta.name for meta in list_vectors(store_dir)) or "none"
        raise FileNotFoundError(f"{weights_path}: no vector {name!r} (available: {available})")
    metadata = _read_metadata(directory / f"{name}.json")
    values = load_file(str(weights_path))[VECTOR_TENSOR]
    if tuple(values.shape) != (metadata.n_virtual_tokens, metadata.token_dim):
        raise ValueError(f"{weights_path}: shape {tuple(values.shape)} disagrees with {name}.json")
    return TaskPromptVector(values, metadata)


def list_vectors(store_dir: str | Path) -> list[VectorMetadata]:
    """Metadata of every vector in the store, sorted by name (empty for a missing store)."""
    directory = Path(store_dir) / "vectors"
    if not directory.is_dir():
        return []
    return [_read_metadata(path) for path in sorted(directory.glob("*.json"))]


def _check_compatible(vectors: Sequence[TaskPromptVector]) -> None:
    first = vectors[0].metadata
    for vector in vectors[1:]:
        meta = vector.metadata
        if meta.origin_id != first.origin_id:
            raise ValueError(
                f"vectors {first.name!r} and {meta.name!r} have different origins "
                f"({first.origin_id} vs {meta.origin_id}); task prompt vectors only add up from one origin"
            )
        if meta.model != first.model:
            raise ValueError(
                f"vectors {first.name!r} and {meta.name!r} come from models {first.model!r}/{meta.model!r}"
            )


def combine_vectors(
    store_dir: str | Path,
    names: Sequence[str],
    weights: Sequence[float] | None = None,
    method: str = "sum",
    seed: int = 0,
    density: float = 0.2,
    drop_rate: float = 0.5,
    name: str | None = None,
    save: bool = False,
) -> TaskPromptVector:
    """Combine stored vectors (the API behind ``promptfusion vectors combine``).

    Args:
        store_dir: the store.
        names: vectors to combine.
        weights: one per vector (negative weights negate); default 1 each.
        method: ``sum``, ``ties`` (with ``density``) or ``dare`` (with ``drop_rate`` and ``seed``).
        seed: DARE's drop-mask seed.
        density: TIES' kept fraction.
        drop_rate: DARE's drop probability.
        name: name of the result (default: names joined by ``+``).
        save: also write the result into the store.

    Returns:
        The combined vector; its metadata shares the sources' origin and model.

    Raises:
        ValueError: unknown method, or the vectors differ in origin, model or shape.
    """
    if not names:
        raise ValueError("combine_vectors: no vector names given")
    vectors = [load_vector(store_dir, vector_name) for vector_name in names]
    _check_compatible(vectors)
    tensors = [vector.values for vector in vectors]
    if method == "sum":
        values = arithmetic.weighted_sum(tensors, weights)
    elif method == "ties":
        values = arithmetic.ties_merge(tensors, weights, density=density)
    elif method == "dare":
        generator = torch.Generator().manual_seed(seed)
        values = arithmetic.dare_merge(tensors, weights, drop_rate=drop_rate, generator=generator)
    else:
        raise ValueError(f"combine_vectors: method must be 'sum', 'ties' or 'dare', got {method!r}")
    weight_list = list(weights) if weights is not None else [1.0] * len(names)
    first = vectors[0].metadata
    metadata = VectorMetadata(
        name=_check_name(name or "+".join(names)),
        task="+".join(vector.metadata.task for vector in vectors),
        origin_id=first.origin_id,
        model=first.model,
        n_virtual_tokens=first.n_virtual_tokens,
        token_dim=first.token_dim,
        sources=tuple(f"{n}*{w:g}" for n, w in zip(names, weight_list, strict=True)) + (f"method={method}",),
    )
    combined = TaskPromptVector(values, metadata)
    if save:
        save_vector(store_dir, combined, overwrite=True)
    return combined


def similarity_matrix(store_dir: str | Path, names: Sequence[str] | None = None) -> SimilarityMatrix:
    """Cosine similarities between stored vectors (all of them by default).

    Raises:
        ValueError: the store holds no vectors or they differ in shape.
    """
    selected = list(names) if names else [meta.name for meta in list_vectors(store_dir)]
    if not selected:
        raise ValueError(f"similarity_matrix: no vectors in {store_dir}")
    loaded = drop_zero_vectors({name: load_vector(store_dir, name).values for name in selected})
    if not loaded:
        raise ValueError(f"similarity_matrix: every selected vector in {store_dir} is zero")
    return SimilarityMatrix(tuple(loaded), arithmetic.cosine_similarity_matrix(list(loaded.values())))


class UntrainedPromptWarning(UserWarning):
    """A prompt was not trained past its start: its task vector is zero and says nothing about the task."""


def drop_zero_vectors(vectors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The non-zero vectors of ``vectors``; each zero one is left out with an :class:`UntrainedPromptWarning`.

    A zero vector (the best prompt was the initial one) has no direction: its cosine similarity is undefined
    and adding it changes nothing, so it is kept out of similarity tables and arithmetic.
    """
    kept = {}
    for name, values in vectors.items():
        if bool((values != 0).any()):
            kept[name] = values
        else:
            warnings.warn(
                f"task vector {name!r} is zero (not trained past its start): left out",
                UntrainedPromptWarning,
                stacklevel=2,
            )
    return kept


def delete_vector(store_dir: str | Path, name: str) -> bool:
    """Remove a vector (tensor and metadata) from the store; returns whether there was one."""
    directory = Path(store_dir) / "vectors"
    removed = False
    for suffix in (".safetensors", ".json"):
        path = directory / f"{_check_name(name)}{suffix}"
        if path.exists():
            path.unlink()
            removed = True
    return removed


def apply_vector(store_dir: str | Path, vector: TaskPromptVector, scale: float = 1.0) -> torch.Tensor:
    """``origin + scale * vector`` using the origin stored for the vector."""
    origin = load_origin(store_dir, vector.metadata.origin_id)
    return arithmetic.apply_to_origin(origin, vector.values, scale)
