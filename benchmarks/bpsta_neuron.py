"""BPSTALeaky against snnTorch's own ``snn.Leaky``: seconds for forward + backward over T steps.

One layer of neurons (``[B, C, H, W]`` = ``[32, 64, 16, 16]`` per step, T = 16) is stepped
snnTorch-style over ``x.unbind(0)``; the loss is the sum of the spikes. Compared, in the same
process and on the same input:

* ``snn.Leaky`` with hard reset and STBP's rectangle (:func:`snntorch_ext.surrogate.rectangular`),
  the reference;
* ``snn.Leaky`` with :func:`snntorch_ext.surrogate.bpsa`;
* :class:`snntorch_ext.BPSTALeaky` as baseline, BPSA and BPSA+BPTA.

Each variant runs ``--warmup`` untimed and ``--repeats`` timed passes, interleaved round-robin so
that load from other processes hits all variants alike; the table reports medians and the ratio
to the reference. Run (about a minute on 2 free cores)::

    nice -n 10 python benchmarks/bpsta_neuron.py

It writes ``benchmarks/results/bpsta_neuron.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import snntorch as snn
import torch

import snntorch_ext as snx

RESULTS = Path(__file__).resolve().parent / "results"

VARIANTS: dict[str, Callable[[], torch.nn.Module]] = {
    "snn.Leaky + rectangular": lambda: snn.Leaky(
        beta=0.9, threshold=0.5, reset_mechanism="zero",
        spike_grad=snx.surrogate.rectangular(1.0)),
    "snn.Leaky + bpsa": lambda: snn.Leaky(
        beta=0.9, threshold=0.5, reset_mechanism="zero", spike_grad=snx.surrogate.bpsa(0.5)),
    "BPSTALeaky baseline": lambda: snx.BPSTALeaky(spatial=False, temporal=False),
    "BPSTALeaky BPSA": lambda: snx.BPSTALeaky(spatial=True, temporal=False),
    "BPSTALeaky BPSA+BPTA": lambda: snx.BPSTALeaky(spatial=True, temporal=True),
}
REFERENCE = "snn.Leaky + rectangular"


def _pass(neuron: torch.nn.Module, x: torch.Tensor) -> float:
    x = x.detach().requires_grad_(True)
    start = time.perf_counter()
    mem, spikes = neuron.init_leaky(), []
    for x_t in x.unbind(0):
        spk, mem = neuron(x_t, mem)
        spikes.append(spk)
    torch.stack(spikes).sum().backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--shape", type=int, nargs="+", default=[32, 64, 16, 16])
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    torch.manual_seed(0)
    x = torch.rand(args.steps, *args.shape) * 0.6
    neurons = {name: make() for name, make in VARIANTS.items()}
    times: dict[str, list[float]] = {name: [] for name in neurons}
    for i in range(args.warmup + args.repeats):
        for name, neuron in neurons.items():
            seconds = _pass(neuron, x)
            if i >= args.warmup:
                times[name].append(seconds)
    medians = {name: statistics.median(t) for name, t in times.items()}
    rows = [{"variant": name, "median_s": medians[name],
             "ratio": medians[name] / medians[REFERENCE]} for name in neurons]

    RESULTS.mkdir(exist_ok=True)
    meta = {"steps": args.steps, "shape": args.shape, "repeats": args.repeats,
            "torch": torch.__version__, "snntorch": snn.__version__,
            "threads": torch.get_num_threads(), "machine": platform.machine()}
    (RESULTS / "bpsta_neuron.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                          indent=2))
    lines = [f"T = {args.steps}, per-step shape {args.shape}, forward + backward, median of "
             f"{args.repeats}, {torch.get_num_threads()} threads", "",
             "| variant | median ms | ratio to snn.Leaky + rectangular |", "|---|---:|---:|"]
    lines += [f"| {r['variant']} | {1e3 * r['median_s']:.1f} | {r['ratio']:.2f} |" for r in rows]
    (RESULTS / "bpsta_neuron.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
