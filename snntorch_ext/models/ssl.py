r"""Networks of spike-sequence-label STBP (JEIT 2024): N-MNIST 12C5-P2-64C5-P2-FC10, CIFAR10 CNN.

Example::

    >>> import torch, snntorch_ext as snx
    >>> net = snx.models.ssl_nmnist()
    >>> net(torch.rand(25, 2, 2, 34, 34)).shape      # output spike trains [T, B, 10]
    torch.Size([25, 2, 10])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .._checks import check_positive, check_positive_int
from ..neurons.psp import PSPLeaky
from ..sequential import SpikingSequential

__all__ = ["ssl_cifar10", "ssl_neuron", "ssl_nmnist"]

NeuronFactory = Callable[[], nn.Module]


def ssl_neuron() -> PSPLeaky:
    r"""The paper's neuron, our defaults: ``PSPLeaky(tau_m=8, tau_s=4, threshold=1)``.

    The defaults follow TSSL-BP (our choice, see :ref:`design-ssl`).

    .. math::

        u[t] = \tfrac{7}{8} \big(1 - o[t-1]\big)\, u[t-1] + I[t], \quad
        o[t] = H(u[t] - 1), \quad a[t] = \tfrac{3}{4}\, a[t-1] + \tfrac{1}{4}\, o[t]

    With ``init_hidden=True``, so it passes its PSP :math:`a` on inside a
    :class:`~snntorch_ext.SpikingSequential`; the surrogate is snnTorch's default arctan (our
    choice, see :class:`~snntorch_ext.PSPLeaky`).

    Example::

        >>> import snntorch_ext as snx
        >>> snx.models.ssl_neuron().tau_s.item()
        4.0

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024.
    """
    return PSPLeaky(tau_m=8.0, tau_s=4.0, threshold=1.0, init_hidden=True)


@torch.no_grad()
def _scale_weights(net: nn.Module, weight_scale: float) -> nn.Module:
    """Multiply PyTorch's default initial weights of every convolution and linear layer."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.weight.mul_(weight_scale)
    return net


def _spiking_output(neuron: nn.Module) -> nn.Module:
    """Make an snnTorch neuron with ``init_hidden=True`` pass on its spikes (first output)."""
    neuron.output = True
    return neuron


def ssl_nmnist(in_channels: int = 2, num_classes: int = 10, neuron: NeuronFactory | None = None,
               size: int = 34, channels: Sequence[int] = (12, 64), weight_scale: float = 1.0
               ) -> SpikingSequential:
    r"""The N-MNIST network of the paper (and of TSSL-BP): 12C5-P2-64C5-P2-FC10.

    .. math::

        \mathrm{in} \to \mathrm{Conv}_{5\times5}(12) \to \mathrm{PSP\,LIF} \to \mathrm{AP}_2
        \to \mathrm{Conv}_{5\times5}(64) \to \mathrm{PSP\,LIF} \to \mathrm{AP}_2
        \to \mathrm{FC}(C) \to \mathrm{PSP\,LIF} \to o[t]

    It takes ``[T, B, in_channels, size, size]`` (event frames ``[T, B, 2, 34, 34]`` for
    N-MNIST; the frames go into the first convolution as they are, pseudo-code line 2) and
    returns the output spike trains ``[T, B, num_classes]`` that the spike-train losses compare
    with target trains. Hidden neurons pass their PSP on; the output neuron is switched to
    ``output=True`` so that the network's output is its *spikes*.

    Our choices (the paper only gives the layer string): valid 5x5 convolutions (34 -> 30 ->
    15 -> 11 -> 5), average pooling applied to the PSP (it commutes with the PSP filter, so it
    equals pooling the spikes and filtering after), PyTorch's default initialisation and biases.

    Args:
        in_channels: input channels (2 polarities for N-MNIST, 1 for MNIST frames).
        num_classes: output neurons.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`ssl_neuron`. With ``lambda: snn.Leaky(..., init_hidden=True)`` the same
            layout is the STBP comparison row.
        size: input height and width (at least 16).
        channels: the two convolutions' output channels.
        weight_scale: factor on PyTorch's default initial weights (1 keeps them; this
            shallow network learns with them, see :func:`ssl_cifar10` for a deep one).

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.ssl_nmnist(in_channels=1, size=28)   # MNIST-sized frames
        >>> net(torch.rand(4, 3, 1, 28, 28)).shape
        torch.Size([4, 3, 10])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep
        spiking neural networks (TSSL-BP). NeurIPS 2020.
    """
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("size", size)):
        check_positive_int(name, value)
    if len(channels) != 2:
        raise ValueError(f"channels must give the two convolutions' widths, got {channels!r}")
    c1, c2 = (check_positive_int("channels", c) for c in channels)
    if size < 16:
        raise ValueError(f"size must be >= 16 (two valid 5x5 convolutions and two 2x2 "
                         f"poolings), got {size}")
    side = ((size - 4) // 2 - 4) // 2
    weight_scale = check_positive("weight_scale", weight_scale)
    make = neuron or ssl_neuron
    return _scale_weights(SpikingSequential(
        nn.Conv2d(in_channels, c1, 5), make(), nn.AvgPool2d(2),
        nn.Conv2d(c1, c2, 5), make(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * side * side, num_classes), _spiking_output(make()),
    ), weight_scale)


def ssl_cifar10(in_channels: int = 3, num_classes: int = 10, neuron: NeuronFactory | None = None,
                size: int = 32, channels: Sequence[int] = (96, 256, 384, 384, 256),
                hidden: Sequence[int] = (1024, 1024), weight_scale: float = 5.0
                ) -> SpikingSequential:
    r"""A CIFAR10 network for spike-sequence labels: 96C3-256C3-P2-384C3-P2-384C3-256C3-1024-1024.

    .. math::

        \mathrm{in} \to [\mathrm{Conv}_{3\times3} \to \mathrm{PSP\,LIF}]^{2} \to \mathrm{AP}_2
        \to \mathrm{Conv}_{3\times3} \to \mathrm{PSP\,LIF} \to \mathrm{AP}_2
        \to [\mathrm{Conv}_{3\times3} \to \mathrm{PSP\,LIF}]^{2}
        \to [\mathrm{FC} \to \mathrm{PSP\,LIF}]^{2} \to \mathrm{FC}(C) \to \mathrm{PSP\,LIF}

    The paper reports CIFAR10 results but its network is not available to us; this layout is
    our choice, the CIFAR10 "CNN1" of TSSL-BP, whose N-MNIST network the paper uses. The image
    is repeated at every step (pseudo-code line 2, ``snntorch_ext.functional.direct``) and
    enters the first convolution as is. Convolutions are 3x3 with padding 1, pooling is average
    pooling of the PSP, and the output neuron passes on its spikes (``output=True``).

    PyTorch's default initial weights are multiplied by ``weight_scale`` = 5 (our choice): a
    hidden layer receives PSPs, which are small (about the presynaptic firing rate), so with
    the default weights activity dies out with depth and the deeper layers and the output are
    silent at initialisation. Measured on the quick variant's network (offline digits,
    ``T = 10``, 40 batches of 50, van Rossum loss, Adam 1e-3): with scale 1 every layer after
    the first is silent at initialisation and the training accuracy
    (:func:`~snntorch_ext.functional.spike_train_accuracy`) stays at 0; with scale 5 all but
    the output layer fire at initialisation and the accuracy of the last 10 batches is about
    58%; with scale 8 every layer fires and it is about 41%.

    Args:
        in_channels: input channels (3 for CIFAR10).
        num_classes: output neurons.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`ssl_neuron`.
        size: input height and width (divisible by 4).
        channels: the five convolutions' output channels.
        hidden: the two hidden fully connected layers' widths.
        weight_scale: factor :math:`> 0` on PyTorch's default initial weights.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.ssl_cifar10(channels=(8, 8, 8, 8, 8), hidden=(16, 16))
        >>> net(torch.rand(3, 2, 3, 32, 32)).shape
        torch.Size([3, 2, 10])

    Reference:
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020. Spiking sequence label-based spatio-temporal
        back-propagation algorithm for training deep spiking neural networks. Journal of
        Electronics & Information Technology (JEIT), 2024.
    """
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("size", size)):
        check_positive_int(name, value)
    if len(channels) != 5 or len(hidden) != 2:
        raise ValueError(f"channels must give 5 widths and hidden 2, got channels={channels!r}, "
                         f"hidden={hidden!r}")
    widths = [check_positive_int("channels", c) for c in channels]
    h1, h2 = (check_positive_int("hidden", h) for h in hidden)
    if size % 4:
        raise ValueError(f"size must be divisible by 4 (two 2x2 poolings), got {size}")
    weight_scale = check_positive("weight_scale", weight_scale)
    make = neuron or ssl_neuron
    layers: list[nn.Module] = []
    previous = in_channels
    for index, width in enumerate(widths):
        layers += [nn.Conv2d(previous, width, 3, padding=1), make()]
        if index in (1, 2):
            layers.append(nn.AvgPool2d(2))
        previous = width
    layers += [nn.Flatten(), nn.Linear(previous * (size // 4) ** 2, h1), make(),
               nn.Linear(h1, h2), make(),
               nn.Linear(h2, num_classes), _spiking_output(make())]
    return _scale_weights(SpikingSequential(*layers), weight_scale)
