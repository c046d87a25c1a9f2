r"""The networks of accumulated spiking flow (Wu et al., AAAI 2021), for :class:`~snntorch_ext.ASF`.

They return a plain ``nn.Sequential`` of per-step modules (snnTorch neurons with
``init_hidden=True``), no bias anywhere, ending in a non-spiking ``Linear`` output layer; each
average pooling is followed by an IF "pooling neuron" of threshold 0.75, as the reference
settings state.

Example::

    >>> import torch, snntorch_ext as snx
    >>> model = snx.ASF(snx.models.asf_lenet(), num_steps=4)
    >>> model(torch.rand(4, 2, 1, 28, 28)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import snntorch as snn
from torch import nn

from .._checks import check_positive, check_positive_int

__all__ = ["asf_lenet", "asf_neuron", "asf_vgg7"]

NeuronFactory = Callable[[], nn.Module]


def asf_neuron(beta: float = 1.0, threshold: float = 1.0) -> snn.Leaky:
    r"""ASF's neuron as an ``snn.Leaky`` with reset to zero: IF for ``beta = 1``, LIF below.

    .. math::

        V(t) = \beta\,\big(1 - s(t-1)\big)\,V(t-1) + I(t), \qquad
        s(t) = \Theta\big(V(t) - V_{\mathrm{th}}\big)

    The reset to :math:`V_{\mathrm{reset}} = 0` is the paper's Eq. 4. The slides write LIF as
    :math:`V \mathrel{+}= (I - V)/\tau`; here the leak is ``beta`` :math:`= 1 - 1/\tau` and the
    input is not scaled by :math:`1/\tau` (snnTorch's ``Leaky``; the scale is absorbed by the
    weights). No surrogate is needed: ASF never differentiates the spike function.

    Args:
        beta: membrane decay, ``1.0`` for IF.
        threshold: :math:`V_{\mathrm{th}} > 0`.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.models.asf_neuron(threshold=0.75).threshold.item()
        0.75

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021.
    """
    check_positive("threshold", threshold)
    return snn.Leaky(beta=beta, threshold=threshold, reset_mechanism="zero", init_hidden=True)


def _pool(pool_threshold: float) -> list[nn.Module]:
    return [nn.AvgPool2d(2), asf_neuron(beta=1.0, threshold=pool_threshold)]


def _spiking_init(net: nn.Sequential, gain: float) -> nn.Sequential:
    """Every weight from U(-gain sqrt(6 / fan_in), gain sqrt(6 / fan_in)): He-uniform times gain."""
    gain = check_positive("init_gain", gain)
    for module in net:
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            bound = gain * math.sqrt(6.0 / module.weight[0].numel())
            nn.init.uniform_(module.weight, -bound, bound)
    return net


def asf_lenet(in_channels: int = 1, num_classes: int = 10, neuron: NeuronFactory | None = None,
              size: int = 28, pool_threshold: float = 0.75, init_gain: float = 1.0
              ) -> nn.Sequential:
    r"""ASF's MNIST network 20C5-P2-50C5-P2-200FC-10FC, without bias, non-spiking output.

    .. math::

        \mathrm{in} \to \mathrm{Conv}_{5\times5}(20) \to \mathrm{N} \to \mathrm{AP}_2 \to
        \mathrm{IF}_{0.75} \to \mathrm{Conv}_{5\times5}(50) \to \mathrm{N} \to \mathrm{AP}_2 \to
        \mathrm{IF}_{0.75} \to \mathrm{FC}(200) \to \mathrm{N} \to \mathrm{FC}(C)

    ``N`` is the neuron of the experiment (IF or LIF), :math:`\mathrm{IF}_{0.75}` the pooling
    neuron (IF, threshold ``pool_threshold``). Wrap it in :class:`~snntorch_ext.ASF` to train.
    Weights are drawn from :math:`U(\pm g\sqrt{6/\mathrm{fan_{in}}})`, He-uniform times
    :math:`g` = ``init_gain``. The paper does not give its initialisation; with PyTorch's default
    (:math:`\sqrt{6}` times smaller) the IF layers fall silent and ASF gets no gradient. With
    :math:`g = 1` the layers of this network fire 0.02-0.06 spikes per step on MNIST digits
    (measured); :math:`g = 2` fires more but trained slower in the quick recipe.

    Args:
        in_channels: input channels (1 for MNIST).
        num_classes: output units.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; defaults to the IF
            neuron :func:`asf_neuron` with threshold 1.
        size: input height and width (at least 16).
        pool_threshold: threshold of the pooling neurons.
        init_gain: :math:`g`, the scale of the initial weights relative to He-uniform.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> lif = snx.models.asf_lenet(neuron=lambda: snx.models.asf_neuron(beta=0.95))
        >>> lif[-1]
        Linear(in_features=200, out_features=10, bias=False)

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021
        (Fig. 3, the network of Lee et al. 2016).
    """
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("size", size)):
        check_positive_int(name, value)
    check_positive("pool_threshold", pool_threshold)
    side = ((size - 4) // 2 - 4) // 2
    if side < 1:
        raise ValueError(f"size must be at least 16 (two 5x5 convolutions and poolings), "
                         f"got {size}")
    make = neuron or asf_neuron
    return _spiking_init(nn.Sequential(
        nn.Conv2d(in_channels, 20, 5, bias=False), make(), *_pool(pool_threshold),
        nn.Conv2d(20, 50, 5, bias=False), make(), *_pool(pool_threshold),
        nn.Flatten(),
        nn.Linear(50 * side * side, 200, bias=False), make(),
        nn.Linear(200, num_classes, bias=False),
    ), init_gain)


def asf_vgg7(in_channels: int = 3, num_classes: int = 10, neuron: NeuronFactory | None = None,
             size: int = 32, width: int = 128, hidden: int = 1024,
             pool_threshold: float = 0.75, init_gain: float = 2.0) -> nn.Sequential:
    r"""A VGG-7 for CIFAR-10 in ASF's style: 2x(128C3)-P2-2x(256C3)-P2-2x(512C3)-P2-1024FC-10FC.

    .. math::

        \big[\mathrm{Conv}_{3\times3}(w) \to \mathrm{N}\big]^{2} \to \mathrm{P} \to
        \big[\mathrm{Conv}_{3\times3}(2w) \to \mathrm{N}\big]^{2} \to \mathrm{P} \to
        \big[\mathrm{Conv}_{3\times3}(4w) \to \mathrm{N}\big]^{2} \to \mathrm{P} \to
        \mathrm{FC}(h) \to \mathrm{N} \to \mathrm{FC}(C)

    with :math:`\mathrm{P} = \mathrm{AP}_2 \to \mathrm{IF}_{0.75}`, :math:`w` = ``width``,
    :math:`h` = ``hidden``, no bias, padding 1. The paper gives the CIFAR-10 accuracy but not the
    network; this layout is the usual VGG-7 (Li, Zhang, Liu 2016, "Ternary weight networks"),
    with ASF's average pooling followed by IF pooling neurons. That is our choice, not the paper's.
    Weights are initialised as in :func:`asf_lenet`, but with ``init_gain`` 2: with He-uniform
    (:math:`g = 1`) the firing rate falls by about 0.6 per layer and the network is silent from
    its seventh neuron layer on (measured on MNIST digits at ``T = 10``), so ASF gets no
    gradient; with :math:`g = 2` every layer fires 0.03-0.1 spikes per step.

    Args:
        in_channels: input channels (3 for CIFAR-10).
        num_classes: output units.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; defaults to the IF
            neuron :func:`asf_neuron` with threshold 1.
        size: input height and width (at least 8; floored by each pooling).
        width: channels of the first two convolutions.
        hidden: width of the hidden fully connected layer.
        pool_threshold: threshold of the pooling neurons.
        init_gain: :math:`g`, the scale of the initial weights relative to He-uniform.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.asf_vgg7(width=8, hidden=16)
        >>> snx.ASF(net, num_steps=2)(torch.rand(2, 1, 3, 32, 32)).shape
        torch.Size([1, 10])

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021
        (Fig. 4, CIFAR-10).
    """
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("size", size), ("width", width), ("hidden", hidden)):
        check_positive_int(name, value)
    check_positive("pool_threshold", pool_threshold)
    if size < 8:
        raise ValueError(f"size must be at least 8 (three 2x2 poolings), got {size}")
    make = neuron or asf_neuron
    layers: list[nn.Module] = []
    channels = in_channels
    for out_channels in (width, 2 * width, 4 * width):
        for _ in range(2):
            layers += [nn.Conv2d(channels, out_channels, 3, padding=1, bias=False), make()]
            channels = out_channels
        layers += _pool(pool_threshold)
    side = size // 8
    return _spiking_init(nn.Sequential(
        *layers, nn.Flatten(),
        nn.Linear(channels * side * side, hidden, bias=False), make(),
        nn.Linear(hidden, num_classes, bias=False),
    ), init_gain)
