r"""The STBP baseline network that all four papers compare against.

Example::

    >>> import torch, snntorch_ext as snx
    >>> net = snx.models.stbp_cnn(in_channels=1, num_classes=10)
    >>> net(torch.rand(4, 2, 1, 28, 28)).shape
    torch.Size([4, 2, 10])
"""

from __future__ import annotations

from collections.abc import Callable

import snntorch as snn
from torch import nn

from .._checks import check_positive_int
from ..sequential import SpikingSequential
from ..surrogate import rectangular

__all__ = ["stbp_cnn", "stbp_neuron"]

NeuronFactory = Callable[[], nn.Module]


def stbp_neuron() -> snn.Leaky:
    r"""STBP's LIF neuron as an ``snn.Leaky``: decay 0.2, threshold 0.5, hard reset, rectangle.

    .. math::

        u[t] = 0.2\,(1 - o[t-1])\,u[t-1] + I[t], \qquad o[t] = H(u[t] - 0.5), \qquad
        \frac{\partial o}{\partial u} = \mathbb{1}\big[|u - 0.5| < 0.5\big]

    The constants are those of the authors' released code (``thresh = 0.5``, ``lens = 0.5``,
    ``decay = 0.2``); with ``init_hidden=True`` for use in :class:`~snntorch_ext.SpikingSequential`.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.models.stbp_neuron().threshold.item()
        0.5

    Reference:
        Y. Wu, L. Deng, G. Li, J. Zhu, L. Shi. Spatio-temporal backpropagation for training
        high-performance spiking neural networks. Frontiers in Neuroscience 12:331, 2018.
    """
    return snn.Leaky(beta=0.2, threshold=0.5, reset_mechanism="zero",
                     spike_grad=rectangular(width=1.0), init_hidden=True)


def stbp_cnn(in_channels: int = 1, num_classes: int = 10, neuron: NeuronFactory | None = None,
             size: int = 28, channels: int = 32, hidden: int = 128) -> SpikingSequential:
    r"""STBP's convolutional MNIST network: 32C3-AP2-32C3-AP2-128FC-10FC, spiking output.

    .. math::

        \mathrm{in} \to \mathrm{Conv}_{3\times3}(32) \to \mathrm{LIF} \to \mathrm{AP}_2 \to
        \mathrm{Conv}_{3\times3}(32) \to \mathrm{LIF} \to \mathrm{AP}_2 \to
        \mathrm{FC}(128) \to \mathrm{LIF} \to \mathrm{FC}(C) \to \mathrm{LIF}

    The layout follows the authors' released code. It takes ``[T, B, C_in, size, size]`` and
    returns the output spikes ``[T, B, num_classes]``.

    Args:
        in_channels: input channels (1 for MNIST).
        num_classes: output neurons.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; defaults to
            :func:`stbp_neuron`. Pass another to swap the rule, e.g.
            ``lambda: snn.Leaky(beta=0.9, init_hidden=True)``.
        size: input height and width (divisible by 4).
        channels: channels of both convolutions.
        hidden: width of the hidden fully connected layer.

    Example::

        >>> import snntorch as snn, snntorch_ext as snx
        >>> net = snx.models.stbp_cnn(neuron=lambda: snn.Leaky(beta=0.9, init_hidden=True))

    Reference:
        Y. Wu, L. Deng, G. Li, J. Zhu, L. Shi. Spatio-temporal backpropagation for training
        high-performance spiking neural networks. Frontiers in Neuroscience 12:331, 2018.
    """
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("size", size), ("channels", channels), ("hidden", hidden)):
        check_positive_int(name, value)
    if size % 4:
        raise ValueError(f"size must be divisible by 4 (two 2x2 poolings), got {size}")
    make = neuron or stbp_neuron
    return SpikingSequential(
        nn.Conv2d(in_channels, channels, 3, padding=1), make(), nn.AvgPool2d(2),
        nn.Conv2d(channels, channels, 3, padding=1), make(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(channels * (size // 4) ** 2, hidden), make(),
        nn.Linear(hidden, num_classes), make(),
    )
