r"""Estimated GPU hours of every recipe's full run, from its network's synaptic operations.

For each recipe the full-size network runs one sample (at the data set's input size and the
recipe's ``T``) on the CPU under :class:`snntorch_ext.metrics.SynapticOps`, which counts the
multiply-accumulates (MACs) of every convolution and linear layer per sample and time step.
A training sample costs about :math:`k = 3` forward passes (forward, and the backward pass's
two products), a test sample one; with ASF the backward runs once on the spike counts instead
of at every step, :math:`k = 1 + 3/T`:

.. math::

    h = \frac{E \,(k N_\mathrm{train} + N_\mathrm{test})\, 2\,T \sum_l \mathrm{MACs}_l}
             {R \cdot 3600}

with ``E`` epochs, ``N`` the data set's sizes and ``R`` the sustained rate of the GPU, by
default 20 TFLOP/s (about a fifth of an A100's or a sixth of an H100's dense TF32 peak: spiking
networks spend much of a step in element-wise neuron updates). It is a compute-bound estimate:
data loading, event-frame binning and per-step overheads are left out, so small networks take
longer than it says. It writes ``docs/results/gpu_estimates.json``, read by
``snntorch-ext report --docs``.

Run (about a minute on 2 free cores)::

    python benchmarks/gpu_hours_estimate.py
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

import snntorch_ext as snx

# dataset factory: (one sample's shape, or None for event frames [T, 2, size, size];
#                   training samples, test samples)
DATASETS = {
    "mnist": ((1, 28, 28), 60_000, 10_000),
    "cifar10": ((3, 32, 32), 50_000, 10_000),
    "cifar100": ((3, 32, 32), 50_000, 10_000),
    "imagenet": ((3, 224, 224), 1_281_167, 50_000),
    "nmnist": (None, 60_000, 10_000),
    "dvs_gesture": (None, 1_077, 264),
    "cifar10_dvs": (None, 9_000, 1_000),  # 9:1 split per class
    "ncaltech101": (None, 7_838, 871),  # 9:1 split of 8,709 recordings
}
EVENT_SIZE = {"nmnist": 34}


def sample(recipe: snx.recipes.Recipe) -> torch.Tensor:
    """One random input of the full data set's shape, encoded by the recipe: ``[T, 1, ...]``."""
    shape, _, _ = DATASETS[recipe.dataset.rpartition(":")[2]]
    if shape is None:
        name = recipe.dataset.rpartition(":")[2]
        size = recipe.dataset_kwargs.get("size", EVENT_SIZE.get(name))
        shape = (recipe.num_steps, 2, size, size)
    encode = snx.recipes.resolve(recipe.encoder)
    return encode(torch.rand(1, *shape), recipe.num_steps, **recipe.encoder_kwargs)


def macs_per_sample(recipe: snx.recipes.Recipe) -> int:
    """Multiply-accumulates of one forward pass of one sample over all ``T`` steps."""
    x = sample(recipe)
    model = snx.engine.build_model(recipe, x.shape[2]).eval()
    with torch.no_grad(), snx.metrics.SynapticOps(model) as ops:
        model(x)
    return sum(ops.flops().values()) * recipe.num_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20e12, help="sustained FLOP/s of the GPU")
    parser.add_argument("--out", default="docs/results/gpu_estimates.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    cache: dict[str, int] = {}
    hours = {}
    for recipe in snx.recipes.all_recipes().values():
        key = json.dumps([recipe.dataset, recipe.dataset_kwargs, recipe.network,
                          recipe.network_kwargs, recipe.num_steps, recipe.encoder])
        if key not in cache:
            cache[key] = macs_per_sample(recipe)
        _, n_train, n_test = DATASETS[recipe.dataset.rpartition(":")[2]]
        passes = 1 + 3 / recipe.num_steps if recipe.wrapper else 3
        flops = 2 * cache[key] * (passes * n_train + n_test) * recipe.epochs
        hours[recipe.name] = round(flops / args.rate / 3600, 2)
        print(f"{recipe.name:34s} {cache[key] / 1e9:8.3f} GMAC/sample  {hours[recipe.name]:8.2f} h")
    method = (f"compute-bound: 2 x MACs x (3 x train + test samples) x epochs (ASF: "
              f"(1 + 3/T) x train) at "
              f"{args.rate / 1e12:g} TFLOP/s sustained; data loading and per-step overheads "
              f"left out; benchmarks/gpu_hours_estimate.py")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"method": method, "hours": hours}, indent=2) + "\n")
    print(f"wrote {out} ({len(cache)} networks, {math.fsum(hours.values()):.0f} h in all)")


if __name__ == "__main__":
    main()
