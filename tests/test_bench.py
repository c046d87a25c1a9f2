"""The benchmark suite: its cases compute the same layer, and `bench --quick` writes its files."""

import json
import math

import numpy as np
import pytest
import torch

from snntorch_ext.bench.cases import case_id, select_cases
from snntorch_ext.bench.layer import FLOOR, PlainLIF, layer_forward
from snntorch_ext.cli import main

CPU = torch.device("cpu")


def _numpy_lif(x: np.ndarray, weights: np.ndarray, beta: float, threshold: float,
               alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Spikes and dL/dx of L = sum(w * o) for the plain LIF, as an explicit float64 recursion."""
    mem, mems, spikes = np.zeros_like(x[0]), [], []
    for x_t in x:
        mem = beta * mem + x_t
        spikes.append((mem > threshold).astype(float))
        mems.append(mem)
        mem = mem * (1 - spikes[-1])
    grad = np.zeros_like(x)
    grad_next = np.zeros_like(x[0])
    for t in reversed(range(len(x))):
        z = mems[t] - threshold
        slope = alpha / 2 / (1 + (math.pi / 2 * alpha * z) ** 2)
        grad_next = weights[t] * slope + beta * (1 - spikes[t]) * grad_next
        grad[t] = grad_next
    return np.stack(spikes), grad


def _run(forward, x: torch.Tensor, weights: torch.Tensor):
    x = x.clone().requires_grad_(True)
    out = forward(x)
    (out * weights.to(out.dtype)).sum().backward()
    return out.detach().double(), x.grad.double()


@pytest.fixture
def inputs():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(7, 3, 40, generator=generator, dtype=torch.float64) * 1.2
    weights = torch.randn(7, 3, 40, generator=generator, dtype=torch.float64)
    return x, weights


def test_floor_matches_numpy_recursion(inputs):
    x, weights = inputs
    spikes, grad = _run(lambda v: PlainLIF.apply(v, 0.5, 1.0, 2.0), x, weights)
    want_spikes, want_grad = _numpy_lif(x.numpy(), weights.numpy(), 0.5, 1.0, 2.0)
    assert 0 < spikes.mean() < 1
    np.testing.assert_array_equal(spikes.numpy(), want_spikes)
    np.testing.assert_allclose(grad.numpy(), want_grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("path", ["snntorch-loop", "per-step"])
def test_snn_leaky_paths_compute_the_floor(inputs, path):
    """snnTorch's loop, our per-step path and the floor are the same layer (values, gradients)."""
    x, weights = inputs
    spikes, grad = _run(layer_forward("snn.Leaky", path, CPU), x, weights)
    want_spikes, want_grad = _run(layer_forward(FLOOR, "multi-step", CPU), x, weights)
    assert torch.equal(spikes, want_spikes)
    torch.testing.assert_close(grad, want_grad, rtol=0, atol=1e-12)


def test_spikingjelly_computes_the_same_layer(inputs):
    pytest.importorskip("spikingjelly.activation_based.neuron")
    x, weights = inputs
    spikes, grad = _run(layer_forward("SpikingJelly LIFNode", "multi-step", CPU), x.float(),
                        weights)
    want_spikes, want_grad = _run(layer_forward(FLOOR, "multi-step", CPU), x, weights)
    assert torch.equal(spikes, want_spikes)
    torch.testing.assert_close(grad, want_grad, rtol=1e-5, atol=1e-6)


def test_psp_loop_passes_its_psp():
    out = layer_forward("PSPLeaky", "snntorch-loop", CPU)(torch.full((3, 1, 2), 2.0))
    want = layer_forward("PSPLeaky", "per-step", CPU)(torch.full((3, 1, 2), 2.0))
    assert torch.equal(out, want) and out.max() < 1  # PSPs, not spikes


def test_case_ids_are_unique_and_cover_the_issue():
    for device in ("cpu", "cuda"):
        cases = select_cases(False, device)
        ids = [case_id(c) for c in cases]
        assert len(ids) == len(set(ids))
        assert {c["T"] for c in cases if c["group"] == "layer"} == {8, 16, 32}
        assert {c["batch"] for c in cases if c["group"] == "network"} == {32}
    cuda_paths = {c["path"] for c in select_cases(False, "cuda") if c["group"] == "layer"}
    assert {"snntorch-loop", "per-step", "fused", "triton", "multi-step"} == cuda_paths


def test_unknown_case_glob_is_refused(capsys, tmp_path):
    assert main(["bench", "--quick", "--cases", "layer/NoSuchNeuron/*",
                 "--out", str(tmp_path)]) == 2
    assert "match no benchmark case" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_bench_cuda_without_cuda(capsys, tmp_path):
    assert main(["bench", "--quick", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_bench_quick_writes_its_files(tmp_path):
    """`snntorch-ext bench --quick` on a tiny case list: the structure of what it writes."""
    assert main(["bench", "--quick", "--threads", "1", "--out", str(tmp_path), "--cases",
                 "layer/snn.Leaky/*", f"layer/{FLOOR}/*", "asf/*/asf/*"]) == 0
    summary = json.loads((tmp_path / "results" / "bench.json").read_text())
    assert {"device", "torch", "snntorch", "spikingjelly", "quick", "threads"} <= set(
        summary["setup"])
    results = {case_id(r): r for r in summary["results"]}
    assert set(results) >= {"layer/snn.Leaky/snntorch-loop/T=8", "layer/snn.Leaky/per-step/T=8",
                            f"layer/{FLOOR}/multi-step/T=8", "asf/asf_lenet/asf/T=4"}
    for result in summary["results"]:
        assert result["status"] in ("ok", "unavailable")
        if result["status"] == "ok":
            assert len(result["times_ms"]) == result["repeats"]
            assert result["min_ms"] <= result["median_ms"] <= result["max_ms"]
            assert result["peak_mb"] >= 0 and result["saved_mb"] > 0
        else:
            assert result["reason"]
    floor = results[f"layer/{FLOOR}/multi-step/T=8"]
    assert floor["saved_bytes_per_neuron_step"] == 4.0  # the float32 membrane alone
    markdown = (tmp_path / "results.md").read_text()
    assert "| neuron | path | T = 8 |" in markdown
    assert "| snn.Leaky | snntorch-loop | " in markdown and "(1.00x)" in markdown
    assert "ASF against BPTT" in markdown
    assert ".. list-table:: One neuron layer" in (tmp_path / "results" / "bench.rst").read_text()
    assert (tmp_path / "results" / "bench.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.gpu
def test_bench_layer_on_cuda(tmp_path):
    """On CUDA (skipped elsewhere by the gpu marker): one layer case per path runs on the GPU."""
    assert torch.cuda.is_available()
    assert main(["bench", "--quick", "--device", "cuda", "--out", str(tmp_path), "--cases",
                 "layer/BPSTALeaky BPSA+BPTA/*", f"layer/{FLOOR}/*"]) == 0
    results = json.loads((tmp_path / "results" / "bench.json").read_text())["results"]
    assert {r["status"] for r in results} <= {"ok", "unavailable"}
    assert all(r["memory_method"] == "cuda max_memory_allocated" for r in results
               if r["status"] == "ok")
