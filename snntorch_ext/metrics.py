r"""Measurements taken while a network runs: per-layer firing rates.

Example::

    import torch, snntorch_ext as snx

    net = snx.models.stbp_cnn()
    with snx.metrics.FiringRates(net) as rates:
        net(torch.rand(4, 2, 1, 28, 28))
    print(rates.per_layer(), rates.overall())
"""

from __future__ import annotations

import torch
from torch import nn

from .utils import neurons

__all__ = ["FiringRates"]


class FiringRates:
    r"""Count the spikes of every snnTorch neuron in ``net`` with forward hooks.

    Used as a context manager; the hooks are removed on exit. For layer :math:`l` with
    :math:`N_l` neurons observed over :math:`S_l` calls (time steps times batches):

    .. math::

        r_l = \frac{1}{S_l N_l} \sum_{s} \sum_{i} o^{l}_{i}[s], \qquad
        r = \frac{\sum_l S_l N_l\, r_l}{\sum_l S_l N_l}

    :meth:`overall` is :math:`r`, the fraction of all neuron-steps that spiked. The hook reads
    the value a neuron passes on (the first element if it returns a tuple), which for snnTorch's
    neurons is the spike tensor.

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
        self._handles: list = []

    def __enter__(self) -> FiringRates:
        for name, module in self._layers:
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, name: str):
        def hook(module: nn.Module, inputs: tuple, output) -> None:
            spk = output[0] if isinstance(output, tuple) else output
            if isinstance(spk, torch.Tensor):
                self._spikes[name] = self._spikes[name] + spk.detach().sum()
                self._counts[name] += spk.numel()

        return hook

    def per_layer(self) -> dict[str, float]:
        """Firing rate :math:`r_l` of each neuron layer, keyed by module name."""
        return {name: float(self._spikes[name]) / count
                for name, count in self._counts.items() if count}

    def overall(self) -> float:
        """Fraction :math:`r` of all observed neuron-steps that spiked (0 if nothing ran)."""
        total = sum(self._counts.values())
        return sum(float(s) for s in self._spikes.values()) / total if total else 0.0
