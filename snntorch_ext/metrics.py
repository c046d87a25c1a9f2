r"""Measurements taken while a network runs: per-layer firing rates.

Example::

    import torch, snntorch_ext as snx

    net = snx.models.stbp_cnn()
    with snx.metrics.FiringRates(net) as rates:
        net(torch.rand(4, 2, 1, 28, 28))
    print(rates.per_layer(), rates.overall())
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ._checks import check_in_range, check_positive, check_positive_int
from .utils import neurons

__all__ = ["E_AC_PJ", "E_INT_AC_PJ", "E_MAC_PJ", "FiringRates", "SynapticOps", "energy"]


class _ForwardHooks:
    """Context manager that puts ``self._hook(name)`` on every module of ``self._layers``."""

    _layers: list[tuple[str, nn.Module]]

    def __enter__(self):
        self._handles = [module.register_forward_hook(self._hook(name))
                         for name, module in self._layers]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook(self, name: str):
        raise NotImplementedError


class FiringRates(_ForwardHooks):
    r"""Count the spikes of every snnTorch neuron in ``net`` with forward hooks.

    Used as a context manager; the hooks are removed on exit. For layer :math:`l` with
    :math:`N_l` neurons observed over :math:`S_l` calls (time steps times batches):

    .. math::

        r_l = \frac{1}{S_l N_l} \sum_{s} \sum_{i} o^{l}_{i}[s], \qquad
        r = \frac{\sum_l S_l N_l\, r_l}{\sum_l S_l N_l}

    :meth:`overall` is :math:`r`, the fraction of all neuron-steps that spiked. The hook reads
    the value a neuron passes on (the first element if it returns a tuple), which for snnTorch's
    neurons is the spike tensor; a neuron that keeps its latest spikes in a tensor attribute
    ``spk`` (:class:`~snntorch_ext.PSPLeaky`, which passes on its PSP; snnTorch's ``RLeaky``) is
    counted from ``spk``. Neurons that :class:`~snntorch_ext.SpikingSequential` runs over the
    whole sequence at once are counted from their spike sequence (the hook's ``sequence``
    entry point), so measuring keeps the fast path.

    Example::

        >>> import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(nn.Linear(2, 4), snn.Leaky(beta=0.5, init_hidden=True))
        >>> with snx.metrics.FiringRates(net) as rates:
        ...     _ = net(torch.ones(3, 1, 2) * 10)
        >>> 0.0 <= rates.overall() <= 1.0
        True
    """

    def __init__(self, net: nn.Module) -> None:
        names = {module: name for name, module in net.named_modules()}
        self._layers = [(names[m] or type(m).__name__, m) for m in neurons(net)]
        self._spikes: dict[str, torch.Tensor | float] = {name: 0.0 for name, _ in self._layers}
        self._counts = {name: 0 for name, _ in self._layers}

    def _hook(self, name: str):
        def count(module: nn.Module, spk) -> None:
            if isinstance(spk, torch.Tensor):
                self._spikes[name] = self._spikes[name] + spk.detach().sum()
                self._counts[name] += spk.numel()

        def hook(module: nn.Module, inputs: tuple, output) -> None:
            spk = output[0] if isinstance(output, tuple) else output
            if isinstance(getattr(module, "spk", None), torch.Tensor):
                spk = module.spk  # a neuron that passes on its PSP keeps its spikes here
            count(module, spk)

        hook.sequence = count  # called once with the spikes [T, B, ...] of a multi-step neuron
        return hook

    def per_layer(self) -> dict[str, float]:
        """Firing rate :math:`r_l` of each neuron layer, keyed by module name."""
        return {name: float(self._spikes[name]) / count
                for name, count in self._counts.items() if count}

    def overall(self) -> float:
        """Fraction :math:`r` of all observed neuron-steps that spiked (0 if nothing ran)."""
        total = sum(self._counts.values())
        return sum(float(s) for s in self._spikes.values()) / total if total else 0.0


E_MAC_PJ = 4.6
"""Energy of a 32-bit floating-point multiply-accumulate in 45 nm CMOS, in picojoules."""
E_INT_AC_PJ = 0.1
r"""Energy of a 32-bit integer accumulate (addition) in 45 nm CMOS, in picojoules.

The :math:`E_\mathrm{INT\_AC}` of Eq. 11 of Shen et al. and the default of :func:`energy`."""
E_AC_PJ = 0.9
"""Energy of a 32-bit floating-point accumulate (addition) in 45 nm CMOS, in picojoules (pass it
as ``e_ac=`` to :func:`energy` for an SNN that adds floating-point weights)."""

_SYNAPTIC = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


class SynapticOps(_ForwardHooks):
    r"""Measure, with forward hooks, the FLOPs of every synaptic layer and the rate of its input.

    Synaptic layers are ``nn.Linear`` and ``nn.Conv1d/2d/3d`` (the other modules' operations are
    not counted, as in the paper). For layer :math:`l`, with weight :math:`W_l` and output
    :math:`y_l` for one item (one sample at one time step; a call on ``[T*B, ...]`` holds
    :math:`TB` items):

    .. math::

        \mathrm{FLOPs}_l = |y_l| \cdot |W_{l,0}|, \qquad
        r_l = \frac{\#\{\text{non-zero input values}\}}{\#\{\text{input values}\}},

    where :math:`|W_{l,0}|` is the number of weights that feed one output value
    (:math:`C_\mathrm{in} k^2 / \mathrm{groups}` for a convolution, :math:`n_\mathrm{in}` for
    ``Linear``). ``FLOPs`` counts multiply-accumulates, as Eq. 11 of Shen et al. does. For a
    layer fed by spikes, :math:`r_l` is the firing rate of its input (after max pooling, of the
    pooled spikes); for the first layer of a directly encoded network it is the fraction of
    non-zero input values, and after average pooling the fraction of windows with a spike:
    every non-zero input value triggers the layer's synaptic operations.

    Example::

        >>> import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(nn.Linear(4, 3), snn.Leaky(beta=0.5, init_hidden=True),
        ...                             nn.Linear(3, 2))
        >>> with snx.metrics.SynapticOps(net) as ops:
        ...     _ = net(torch.ones(5, 2, 4))
        >>> ops.flops()
        {'0': 12, '2': 6}
        >>> ops.input_rates()['0']
        1.0
    """

    def __init__(self, net: nn.Module) -> None:
        self._layers = [(name or type(m).__name__, m) for name, m in net.named_modules()
                        if isinstance(m, _SYNAPTIC)]
        self._flops: dict[str, int] = {}
        self._nonzero: dict[str, torch.Tensor | int] = {name: 0 for name, _ in self._layers}
        self._values = {name: 0 for name, _ in self._layers}

    def _hook(self, name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            x = inputs[0]
            self._flops[name] = output[0].numel() * module.weight[0].numel()
            self._nonzero[name] = self._nonzero[name] + torch.count_nonzero(x.detach())
            self._values[name] += x.numel()

        return hook

    def flops(self) -> dict[str, int]:
        r""":math:`\mathrm{FLOPs}_l` per sample and time step of every layer that ran."""
        return dict(self._flops)

    def input_rates(self) -> dict[str, float]:
        """Input rate :math:`r_l` of every layer that ran."""
        return {name: float(self._nonzero[name]) / self._values[name]
                for name in self._flops if self._values[name]}


def energy(flops: Mapping[str, float], rates: Mapping[str, float], num_steps: int, *,
           e_mac: float = E_MAC_PJ, e_ac: float = E_INT_AC_PJ) -> dict[str, Any]:
    r"""Energy of a network run as an ANN and as an SNN, Eq. 11 of Shen et al. (2022).

    .. math::

        E_\mathrm{ANN} = \sum_l \mathrm{FLOPs}_l \, E_\mathrm{MAC}, \qquad
        E_\mathrm{SNN} = \sum_l \mathrm{FLOPs}_l \, r_l \, E_\mathrm{INT\_AC} \, T, \qquad
        \mathrm{EE} = E_\mathrm{ANN} / E_\mathrm{SNN}

    per sample, with :math:`\mathrm{FLOPs}_l` the multiply-accumulates of synaptic layer
    :math:`l` for one sample and step and :math:`r_l` the firing rate of its input (both from
    :class:`SynapticOps`). An SNN only adds a weight when an input spike arrives, hence
    :math:`r_l` and the cheaper accumulate; an ANN multiplies every input once. The defaults are
    the 45 nm figures of Horowitz (2014) that Eq. 11 names: :data:`E_MAC_PJ` = 4.6 pJ for a
    32-bit floating-point multiply-add and :data:`E_INT_AC_PJ` = 0.1 pJ for a 32-bit *integer*
    add. With them the ratios of the paper's Table 6 follow from its firing rates, e.g.
    :math:`4.6 / (0.082 \cdot 0.1 \cdot 16) = 35.1` for MNIST. For a floating-point add pass
    ``e_ac=snx.metrics.E_AC_PJ`` (0.9 pJ), which gives ratios nine times smaller.

    Args:
        flops: :math:`\mathrm{FLOPs}_l` per layer name.
        rates: :math:`r_l` per layer name; must have the same names as ``flops``.
        num_steps: :math:`T`.
        e_mac: :math:`E_\mathrm{MAC}` in pJ.
        e_ac: :math:`E_\mathrm{INT\_AC}`, the energy of one accumulate, in pJ.

    Returns:
        ``{"e_ann_pj", "e_snn_pj", "ratio", "flops", "num_steps", "e_mac_pj", "e_ac_pj",
        "layers": {name: {"flops", "input_rate", "e_snn_pj"}}}``; ``ratio`` is EE
        (``inf`` if no input spike arrived).

    Raises:
        ValueError: mismatched layer names, rates outside [0, 1], negative FLOPs, non-positive
            energies or ``num_steps``.

    Example::

        >>> import snntorch_ext as snx
        >>> round(snx.metrics.energy({"fc": 1000}, {"fc": 0.082}, num_steps=16)["ratio"], 1)
        35.1

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858), Eq. 11; M. Horowitz. Computing's energy problem (and what we can do
        about it). ISSCC 2014 (the energy per operation).
    """
    num_steps = check_positive_int("num_steps", num_steps)
    e_mac = check_positive("e_mac", e_mac)
    e_ac = check_positive("e_ac", e_ac)
    if set(flops) != set(rates):
        raise ValueError(f"flops and rates must name the same layers, got {sorted(flops)} and "
                         f"{sorted(rates)}")
    layers = {}
    for name, count in flops.items():
        if not count >= 0:
            raise ValueError(f"flops[{name!r}] must be >= 0, got {count!r}")
        rate = check_in_range(f"rates[{name!r}]", rates[name], 0.0, 1.0, closed_high=True)
        layers[name] = {"flops": count, "input_rate": rate,
                        "e_snn_pj": count * rate * e_ac * num_steps}
    total = sum(flops.values())
    e_ann = total * e_mac
    e_snn = sum(layer["e_snn_pj"] for layer in layers.values())
    return {"e_ann_pj": e_ann, "e_snn_pj": e_snn,
            "ratio": e_ann / e_snn if e_snn > 0 else float("inf"), "flops": total,
            "num_steps": num_steps, "e_mac_pj": e_mac, "e_ac_pj": e_ac, "layers": layers}
