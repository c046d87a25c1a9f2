"""Utilities that complement :mod:`snntorch.utils`.

Example::

    import snntorch as snn, snntorch_ext as snx, torch.nn as nn

    net = nn.Sequential(nn.Linear(4, 3), snn.Leaky(beta=0.9, init_hidden=True))
    snx.utils.reset(net)          # only the neurons inside ``net``
"""

from __future__ import annotations

import torch
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

from .dropout import TimeSharedDropout

__all__ = ["neurons", "reset"]


def neurons(net: nn.Module) -> list[SpikingNeuron]:
    """Every snnTorch neuron inside ``net`` (``net`` itself and nested modules), in module order.

    Example::

        >>> import snntorch as snn, torch.nn as nn, snntorch_ext as snx
        >>> net = nn.Sequential(nn.Sequential(snn.Leaky(beta=0.5, init_hidden=True)))
        >>> len(snx.utils.neurons(net))
        1
    """
    return [m for m in net.modules() if isinstance(m, SpikingNeuron)]


@torch.no_grad()
def reset(net: nn.Module) -> nn.Module:
    r"""Reset the hidden state of every snnTorch neuron inside ``net``, and of nothing else.

    For each neuron :math:`n` in ``net.modules()`` (nested containers included) every hidden
    state variable :math:`h_n` (membrane, synaptic current, previous spike, PSP, ...) is set to
    zero and detached from the graph:

    .. math:: h_n \leftarrow 0 \quad \forall\, n \in \mathrm{modules}(\mathrm{net})

    The hidden state of a neuron is what snnTorch registers as *non-persistent* buffers
    (``register_buffer(name, tensor, persistent=False)``); subclasses that follow that
    convention (every neuron of this package does) are reset too. Shapes are kept, like
    snnTorch's ``reset_hidden``. The per-step mask of a
    :class:`~snntorch_ext.TimeSharedDropout` (``per_step=True``) is forgotten as well.

    Two differences from ``snntorch.utils.reset`` of snnTorch 1.0, which calls the class-wide
    ``reset_hidden()``: neurons of *other* networks in the same process are left alone, and
    neurons inside nested modules are found.

    Args:
        net: any module; it may be a neuron itself.

    Returns:
        ``net``, so calls can be chained.

    Example::

        >>> import torch, snntorch as snn, torch.nn as nn, snntorch_ext as snx
        >>> net = nn.Sequential(nn.Linear(2, 2), snn.Leaky(beta=0.9, init_hidden=True))
        >>> _ = net(torch.ones(1, 2)); _ = snx.utils.reset(net)
        >>> float(net[1].mem.abs().sum())
        0.0
    """
    for neuron in neurons(net):
        for name in neuron._non_persistent_buffers_set:
            state = getattr(neuron, name)
            if isinstance(state, torch.Tensor):
                setattr(neuron, name, torch.zeros_like(state))
    for module in net.modules():
        if isinstance(module, TimeSharedDropout):
            module.reset_mask()
    return net
