"""The soft-prompt benchmark scripts: the GPU one refuses to run without CUDA, its roofline arithmetic, and
per-runner batch streams of the shared runner."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def soft_gpu():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("soft_gpu")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_soft_gpu_without_cuda_stops_with_a_message(soft_gpu, capsys):
    assert soft_gpu.main(["--size", "tiny", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "torch sees no CUDA device" in err and "--device cpu" in err


def test_roofline_flops_count_weights_attention_and_an_activation_backward(soft_gpu):
    from transformers import LlamaConfig

    config = LlamaConfig(
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        vocab_size=100,
    )
    # Per layer: q, o (8x8 each), k, v (8x4 each), gate, up, down (8x16 each) = 128 + 64 + 384 = 576.
    weights = 2 * 576 + 8 * 100
    tokens = 3 * (5 + 2)
    forward = 2 * weights * tokens + 2 * 2 * 8 * 7 * tokens
    assert soft_gpu.roofline_step_flops(config, batch_size=3, seq_len=5, n_virtual=2) == 2 * forward
    assert soft_gpu.peak_tflops("NVIDIA H200", None) == 989.0
    assert soft_gpu.peak_tflops("NVIDIA A100-SXM4-80GB", None) == 312.0
    assert soft_gpu.peak_tflops("Some GPU", None) is None and soft_gpu.peak_tflops("x", 5.0) == 5.0


def test_cpu_smoke_run_reports_no_roofline_fraction(soft_gpu, tmp_path):
    import json

    out = tmp_path / "gpu.json"
    argv = ["--size", "tiny", "--device", "cpu", "--steps", "2", "--warmup", "1", "--batch-size", "2"]
    assert soft_gpu.main([*argv, "--seq-len", "8", "--modes", "ours", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["roofline"]["peak_tflops"] is None
    assert result["summary"]["ours"]["roofline_fraction"] is None
    assert result["summary"]["ours"]["achieved_tflops"] > 0


def test_run_interleaved_feeds_each_runner_its_own_batches(soft_gpu):
    from soft_bench_common import run_interleaved

    from soft_prompts.data import EncodedBatch

    def batch(rows: int, real: int, length: int) -> EncodedBatch:
        mask = torch.zeros(rows, length, dtype=torch.long)
        mask[:, length - real :] = 1
        ids = torch.ones(rows, length, dtype=torch.long)
        return EncodedBatch(ids, mask, torch.full_like(ids, -100), torch.zeros(rows, dtype=torch.long))

    seen: dict[str, list[int]] = {"a": [], "b": []}
    runners = {name: (lambda b, n=name: seen[n].append(b.input_ids.shape[1]) or 0.0) for name in seen}
    streams = {"a": [batch(2, 4, 4), batch(2, 2, 4)], "b": [batch(2, 3, 3), batch(2, 3, 3)]}
    stats = run_interleaved(runners, streams, 0, 0, torch.device("cpu"), log=lambda _: None)
    assert seen == {"a": [4, 4], "b": [3, 3]}
    assert stats["a"].summary()["padding_fraction"] == pytest.approx(0.25)
    assert stats["b"].summary()["padding_fraction"] == 0.0
    with pytest.raises(ValueError, match="different numbers of batches"):
        run_interleaved(runners, {"a": streams["a"], "b": streams["b"][:1]}, 0, 0, torch.device("cpu"))
