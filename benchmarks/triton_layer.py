"""One neuron layer on CUDA: Triton kernels against the torch multi-step path and the per-step path.

One layer of ``--channels`` x 32 x 32 neurons per sample (default 128 x 32 x 32), batch 128,
T = 32, forward + backward (``out.backward(grad)`` with a fixed random ``grad``), for each
neuron of the package and three backends of :class:`snntorch_ext.SpikingSequential`:

* ``torch``: the per-step path (``T`` calls of the neuron's ``forward``, autograd per step);
* ``fused``: the torch multi-step recursion (one autograd node, hand-written backward);
* ``triton``: the same node with the Triton kernels (two launches per layer).

Each case runs ``--warmup`` untimed and ``--repeats`` timed passes, timed with CUDA events; the
table gives the median and min in ms, the spread (max/min) and the peak memory allocated by the
pass, and the speed-up of Triton over the two other paths. A second table times the kernels
alone (``triton.testing.do_bench``, forward + backward, no autograd) with the memory traffic
they need and the bandwidth that makes: BPSA+BPTA's LIF kernels, and PSPLeaky as two kernels
(LIF, then PSP) or as the one-kernel pair ``lif_psp_forward``/``lif_psp_backward``. Run on a
machine with a GPU::

    python benchmarks/triton_layer.py                       # float32
    python benchmarks/triton_layer.py --dtype bfloat16

It writes ``triton_layer[_<dtype>].json`` and ``.md`` into ``--out`` (default
``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from collections.abc import Callable
from pathlib import Path

import snntorch as snn
import torch

import snntorch_ext as snx

RESULTS = Path(__file__).resolve().parent / "results"

NEURONS: dict[str, Callable[[], torch.nn.Module]] = {
    "snn.Leaky + rectangular": lambda: snn.Leaky(
        beta=0.9, threshold=0.5, reset_mechanism="zero",
        spike_grad=snx.surrogate.rectangular(1.0), init_hidden=True),
    "BPSTALeaky BPSA+BPTA": lambda: snx.BPSTALeaky(init_hidden=True),
    "MSGLeaky (p = 0.5)": lambda: snx.MSGLeaky(init_hidden=True),
    "PSPLeaky": lambda: snx.PSPLeaky(init_hidden=True),
}
BACKENDS = ("torch", "fused", "triton")


def _time(factory: Callable[[], torch.nn.Module], backend: str, x: torch.Tensor,
          grad: torch.Tensor, warmup: int, repeats: int) -> dict:
    net = snx.SpikingSequential(factory(), backend=backend).cuda()

    def one_pass() -> None:
        x.grad = None
        net(x).backward(grad)

    for _ in range(warmup):
        one_pass()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        one_pass()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    peak = torch.cuda.max_memory_allocated() - base
    x.grad = None
    return {"median_ms": statistics.median(times), "min_ms": min(times),
            "spread": max(times) / min(times), "peak_mib": peak / 2**20}


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns the results written to JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--neurons", nargs="*", default=list(NEURONS), choices=list(NEURONS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("this benchmark needs CUDA (the Triton kernels run on the GPU)")
    import triton

    dtype = getattr(torch, args.dtype)
    shape = (args.steps, args.batch, args.channels, args.size, args.size)
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.rand(shape, generator=gen, device="cuda", dtype=dtype).mul_(1.2)
    x.requires_grad_()
    grad = torch.randn(shape, generator=gen, device="cuda", dtype=dtype)
    rows = []
    for name in args.neurons:
        times = {b: _time(NEURONS[name], b, x, grad, args.warmup, args.repeats)
                 for b in BACKENDS}
        triton_ms = times["triton"]["median_ms"]
        rows.append({"neuron": name, **{b: times[b] for b in BACKENDS},
                     "per_step_over_triton": times["torch"]["median_ms"] / triton_ms,
                     "fused_over_triton": times["fused"]["median_ms"] / triton_ms})
        print(f"{name:26s} " + "  ".join(f"{b} {times[b]['median_ms']:8.2f} ms"
                                           for b in BACKENDS)
              + f"  per-step/triton {rows[-1]['per_step_over_triton']:5.1f}x"
              + f"  fused/triton {rows[-1]['fused_over_triton']:5.1f}x", flush=True)
    kernels = _kernels_alone(x.detach(), grad)
    for row in kernels:
        print(f"{row['case']:44s} {row['ms']:7.3f} ms  {row['gb_per_s']:6.0f} GB/s", flush=True)
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "triton": triton.__version__, "python": platform.python_version(),
              "shape": list(shape), "dtype": args.dtype, "warmup": args.warmup,
              "repeats": args.repeats, "rows": rows, "kernels": kernels}
    _write(result, args.out)
    return result


def _kernels_alone(x: torch.Tensor, grad: torch.Tensor) -> list[dict]:
    """Forward + backward of the kernels themselves: ms (median of ``do_bench``) and GB/s."""
    import triton

    from snntorch_ext.kernels.spec import LIFParams, PSPParams, SurrogateSpec
    from snntorch_ext.kernels.triton import lif, psp

    mem0 = torch.zeros_like(x[0])
    bpsta = (LIFParams(0.9, 0.5, "zero", alpha=0.8), SurrogateSpec("bpsa", 0.5, None))
    p, sg, pp = LIFParams(0.875, 1.0, "zero"), SurrogateSpec("atan", 2.0, None), PSPParams(
        0.75, 4.0)

    def lif_pass() -> None:
        spk, mem = lif.lif_forward(x, mem0, bpsta[0])
        lif.lif_backward(grad, None, mem, mem0, *bpsta, None)

    def two_kernels() -> None:
        spk, mem = lif.lif_forward(x, mem0, p)
        psp.psp_forward(spk, mem0, pp)
        from_psp, _ = psp.psp_backward(grad, pp)
        lif.lif_backward(from_psp, None, mem, mem0, p, sg, None)

    def one_kernel() -> None:
        spk, psp_seq, mem = psp.lif_psp_forward(x, mem0, mem0, p, pp)
        psp.lif_psp_backward(None, grad, None, mem, mem0, p, pp, sg, None)

    size = x.numel() * x.element_size()
    cases = [("LIF kernels, BPSA+BPTA (6 tensor passes)", lif_pass, 6),
             ("PSPLeaky: LIF kernels + PSP kernels (10 passes)", two_kernels, 10),
             ("PSPLeaky: one LIF+PSP kernel each way (7 passes)", one_kernel, 7)]
    rows = []
    for case, run, passes in cases:
        ms = triton.testing.do_bench(run, warmup=10, rep=100)
        rows.append({"case": case, "ms": ms, "gb_per_s": passes * size / ms / 1e6})
    return rows


def _write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = "triton_layer" + ("" if result["dtype"] == "float32" else f"_{result['dtype']}")
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"One layer, `[T, B, C, H, W]` = `{result['shape']}`, {result['dtype']}, forward + "
        f"backward, {result['device']}, torch {result['torch']}, Triton {result['triton']}; "
        f"median (min) ms of {result['repeats']} passes, spread = max/min, peak = memory "
        "allocated by one pass.",
        "",
        "| neuron | per-step (torch) | multi-step (torch) | multi-step (Triton) "
        "| per-step / Triton | multi-step torch / Triton | peak MiB per-step / torch / Triton |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        cells = [f"{row[b]['median_ms']:.2f} ({row[b]['min_ms']:.2f}), spread "
                 f"{row[b]['spread']:.2f}" for b in BACKENDS]
        peaks = " / ".join(f"{row[b]['peak_mib']:.0f}" for b in BACKENDS)
        lines.append(f"| {row['neuron']} | {' | '.join(cells)} | "
                     f"{row['per_step_over_triton']:.1f}x | {row['fused_over_triton']:.1f}x | "
                     f"{peaks} |")
    lines += ["", "The kernels alone (forward + backward, no autograd; a pass reads or writes one "
              "`[T, B, C, H, W]` tensor):", "", "| kernels | ms | GB/s |", "|---|---|---|"]
    lines += [f"| {row['case']} | {row['ms']:.3f} | {row['gb_per_s']:.0f} |"
              for row in result["kernels"]]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
