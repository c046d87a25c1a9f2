"""The cost of the masked surrogate gradient (MSG): seconds per training step, masked vs bare.

The paper says that MSG "does not significantly increase the simulation's runtime" (Sec. 4.2,
Fig. 6b). This benchmark times one full training step (forward over T steps, TWO, cross-entropy,
backward, AdamW update) of the same network with four neurons, in the same process:

* ``snn.Leaky + atan``: snnTorch's own neuron with its default surrogate, the reference;
* ``snn.Leaky + masked(atan, p=0.5)``: the same neuron with snnTorch's surrogate masked;
* ``MSGLeaky + piecewise_linear``: the paper's neuron with the bare PLGrad;
* ``MSGLeaky + masked(p=0.5)``: the paper's neuron with MSG (its default).

The two ratios that answer the question are masked / bare for the same neuron (goal <= 1.05).
Three configurations run by default:

* ``vggsnn-full``: the paper's VGGSNN on DVS-CIFAR10-sized input (``[T=10, B=4, 2, 48, 48]``);
* ``vggsnn``: VGGSNN at a quarter of the paper's width (``[T=10, B=16, 2, 48, 48]``): the
  convolutions cost 16 times less, the neurons 4 times less, so the mask weighs more;
* ``quick``: the ResNet18 of the quick ablation (1/16 width, 16 x 16 frames, T = 10, B = 50),
  where the element-wise neuron updates take most of the time: the worst case for MSG.

Each variant runs ``--warmup`` untimed and ``--repeats`` timed steps, interleaved round-robin so
that load from other processes hits all variants alike; medians of the wall-clock time and of
the process CPU time are reported (with ``--threads 1`` the CPU time hardly depends on other
processes). Run (about four minutes on 2 free cores)::

    nice -n 10 python benchmarks/msg_overhead.py --threads 1

It writes ``benchmarks/results/msg_overhead.json`` and ``.md``.
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
from torch import nn

import snntorch_ext as snx

RESULTS = Path(__file__).resolve().parent / "results"

NEURONS: dict[str, Callable[[], nn.Module]] = {
    "snn.Leaky + atan": lambda: snn.Leaky(
        beta=0.5, threshold=0.5, reset_mechanism="zero", init_hidden=True),
    "snn.Leaky + masked(atan, p=0.5)": lambda: snn.Leaky(
        beta=0.5, threshold=0.5, reset_mechanism="zero", init_hidden=True,
        spike_grad=snx.surrogate.masked(snn.surrogate.atan(alpha=2.0), p=0.5)),
    "MSGLeaky + piecewise_linear": lambda: snx.MSGLeaky(
        init_hidden=True, spike_grad=snx.surrogate.piecewise_linear(alpha=2.0)),
    "MSGLeaky + masked(p=0.5)": lambda: snx.MSGLeaky(init_hidden=True),
}
PAIRS = {  # masked variant: its bare base
    "snn.Leaky + masked(atan, p=0.5)": "snn.Leaky + atan",
    "MSGLeaky + masked(p=0.5)": "MSGLeaky + piecewise_linear",
}
CONFIGS = {
    "vggsnn-full": {"network": "vggsnn", "width": 1.0, "size": 48, "steps": 10, "batch": 4},
    "vggsnn": {"network": "vggsnn", "width": 0.25, "size": 48, "steps": 10, "batch": 16},
    "quick": {"network": "resnet18", "width": 1 / 16, "size": 16, "steps": 10, "batch": 50},
}


def _build(config: dict, make_neuron: Callable[[], nn.Module]) -> nn.Module:
    kwargs = {"width": config["width"], "neuron": make_neuron}
    if config["network"] == "vggsnn":
        kwargs["size"] = config["size"]
    return getattr(snx.models, config["network"])(2, 10, **kwargs)


def _stepper(config: dict, make_neuron: Callable[[], nn.Module]) -> Callable[..., float]:
    torch.manual_seed(0)
    net = _build(config, make_neuron)
    two = snx.TWO(config["steps"])
    optimizer = torch.optim.AdamW(net.parameters(), lr=0.05 * config["batch"] / 1024)
    loss_fn = nn.CrossEntropyLoss()

    def step(x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        optimizer.zero_grad(set_to_none=True)
        out = net(x)
        two.observe(out.detach(), labels)
        loss_fn(two(out), labels).backward()
        optimizer.step()
        return time.perf_counter() - wall, time.process_time() - cpu

    return step


def _run(name: str, config: dict, warmup: int, repeats: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    size = config["size"]
    x = (torch.rand(config["steps"], config["batch"], 2, size, size, generator=generator) < 0.2)
    x = x.float()
    labels = torch.randint(0, 10, (config["batch"],), generator=generator)
    steps = {variant: _stepper(config, make) for variant, make in NEURONS.items()}
    times: dict[str, list[tuple[float, float]]] = {variant: [] for variant in steps}
    for i in range(warmup + repeats):
        for variant, step in steps.items():
            seconds = step(x, labels)
            if i >= warmup:
                times[variant].append(seconds)
    wall = {variant: statistics.median(t[0] for t in ts) for variant, ts in times.items()}
    cpu = {variant: statistics.median(t[1] for t in ts) for variant, ts in times.items()}
    rows = []
    for variant in steps:
        row = {"config": name, "variant": variant}
        for key, medians in (("wall", wall), ("cpu", cpu)):
            row[f"{key}_median_s"] = medians[variant]
            row[f"{key}_ratio_to_snn_leaky"] = medians[variant] / medians["snn.Leaky + atan"]
            row[f"{key}_masked_to_bare"] = (medians[variant] / medians[PAIRS[variant]]
                                            if variant in PAIRS else None)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads (1 makes the CPU times robust to other load)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    for name in args.configs:
        rows += _run(name, CONFIGS[name], args.warmup, args.repeats)
        print(f"{name} done", flush=True)

    RESULTS.mkdir(exist_ok=True)
    meta = {"configs": {name: CONFIGS[name] for name in args.configs},
            "warmup": args.warmup, "repeats": args.repeats, "torch": torch.__version__,
            "snntorch": snn.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine()}
    (RESULTS / "msg_overhead.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                          indent=2) + "\n")
    lines = [f"One training step (forward, TWO, cross-entropy, backward, AdamW), median of "
             f"{args.repeats}, {torch.get_num_threads()} threads; wall-clock and process CPU "
             f"time", "",
             "| config | variant | wall ms | CPU ms | CPU ratio to snn.Leaky + atan | "
             "masked / bare (wall) | masked / bare (CPU) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        pairs = ["" if r[f"{k}_masked_to_bare"] is None else f"{r[f'{k}_masked_to_bare']:.3f}"
                 for k in ("wall", "cpu")]
        lines.append(f"| {r['config']} | {r['variant']} | {1e3 * r['wall_median_s']:.1f} | "
                     f"{1e3 * r['cpu_median_s']:.1f} | {r['cpu_ratio_to_snn_leaky']:.3f} | "
                     f"{pairs[0]} | {pairs[1]} |")
    (RESULTS / "msg_overhead.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
