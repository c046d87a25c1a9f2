r"""The three networks of Shen, Zhao and Zeng (2022), Table 1: Small, Middle and Large.

``C`` is Conv3x3-BN-ReLU-LIF as the paper says, ``MP``/``AP`` max/average pooling, ``FC`` a
fully connected layer followed by LIF neurons, ``DP`` dropout with one mask per sample shared
over time (:class:`~snntorch_ext.TimeSharedDropout`), and ``10Voting`` a spiking output layer of
``num_classes * neurons_per_class`` neurons averaged per class (:class:`~snntorch_ext.Voting`).

Example::

    >>> import torch, snntorch_ext as snx
    >>> net = snx.models.bpsta_small(1, 10, channels=(8, 8, 16), hidden=32)
    >>> net(torch.rand(4, 2, 1, 28, 28)).shape        # [T, B, classes]
    torch.Size([4, 2, 10])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from .._checks import check_in_range, check_positive_int
from ..decode.voting import Voting
from ..dropout import TimeSharedDropout
from ..neurons.bpsta import BPSTALeaky
from ..sequential import SpikingSequential

__all__ = ["bpsta_large", "bpsta_middle", "bpsta_neuron", "bpsta_small"]

NeuronFactory = Callable[[], nn.Module]


def bpsta_neuron() -> BPSTALeaky:
    r"""The paper's neuron with BPSA+BPTA: :math:`\lambda = 0.9`, :math:`\vartheta = 0.5`,
    :math:`\alpha = 0.8`, hard reset, ``init_hidden=True``.

    .. math::

        u[t+1] = 0.9 \big( (1 - \mathrm{sg}(o[t]))\, u[t]
                 + 0.8\, (o[t] - \mathrm{sg}(o[t])) \big) + I[t+1]

    Example::

        >>> import snntorch_ext as snx
        >>> snx.models.bpsta_neuron().alpha.item()
        0.800000011920929

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858).
    """
    return BPSTALeaky(beta=0.9, threshold=0.5, alpha=0.8, init_hidden=True)


def _check_widths(name: str, widths: Sequence[int], count: int) -> tuple[int, ...]:
    widths = tuple(widths)
    if len(widths) != count:
        raise ValueError(f"{name} must list {count} channel numbers, got {widths!r}")
    for width in widths:
        check_positive_int(name, width)
    return widths


def _build(spec: list[tuple[str, int]], in_channels: int, num_classes: int, size: int,
           neuron: NeuronFactory | None, neurons_per_class: int, dropout: float,
           fc_norm: bool) -> SpikingSequential:
    """Layers from ``spec`` (``("C", out)``, ``("MP"|"AP", k)``, ``("DP", 0)``, ``("FC", out)``)."""
    check_positive_int("in_channels", in_channels)
    check_positive_int("num_classes", num_classes)
    check_positive_int("size", size)
    check_positive_int("neurons_per_class", neurons_per_class)
    check_in_range("dropout", dropout, 0.0, 1.0)
    if not isinstance(fc_norm, bool):
        raise ValueError(f"fc_norm must be True or False, got {fc_norm!r}")
    make = neuron or bpsta_neuron

    def fully_connected(features: int, out: int) -> list[nn.Module]:
        if fc_norm:
            return [nn.Linear(features, out, bias=False), nn.BatchNorm1d(out), nn.ReLU(), make()]
        return [nn.Linear(features, out), make()]

    layers: list[nn.Module] = []
    channels, side, features = in_channels, size, None
    for kind, value in spec:
        if kind == "C":
            layers += [nn.Conv2d(channels, value, 3, padding=1, bias=False),
                       nn.BatchNorm2d(value), nn.ReLU(), make()]
            channels = value
        elif kind in ("MP", "AP"):
            if side < value:
                raise ValueError(f"size {size} is too small for the network: a {kind}{value} "
                                 f"pooling meets a {side}x{side} feature map")
            layers.append(nn.MaxPool2d(value) if kind == "MP" else nn.AvgPool2d(value))
            side //= value
        elif kind == "DP":
            layers.append(TimeSharedDropout(dropout))
        elif kind == "FC":
            if features is None:
                layers.append(nn.Flatten())
                features = channels * side * side
            layers += fully_connected(features, value)
            features = value
    layers += [*fully_connected(features, num_classes * neurons_per_class),
               Voting(num_classes, neurons_per_class)]
    return SpikingSequential(*layers)


def bpsta_small(in_channels: int = 1, num_classes: int = 10, neuron: NeuronFactory | None = None,
                *, size: int = 28, channels: Sequence[int] = (128, 128, 256), hidden: int = 4096,
                neurons_per_class: int = 10, dropout: float = 0.5, fc_norm: bool = False
                ) -> SpikingSequential:
    r"""Table 1, Small (MNIST): 128C3-MP2-128C3-256C3-MP2-4096FC-DP-10Voting.

    .. math::

        \mathrm{C}(c_1) \to \mathrm{MP}_2 \to \mathrm{C}(c_2) \to \mathrm{C}(c_3) \to
        \mathrm{MP}_2 \to \mathrm{FC}(h) \to \mathrm{DP} \to \mathrm{FC}(C k) \to
        \mathrm{Voting}_k

    The defaults are the paper's; ``channels``, ``hidden`` and ``size`` only scale the same
    layout (the CPU quick recipes use narrower layers). Takes ``[T, B, in_channels, size, size]``
    and returns the voted output ``[T, B, num_classes]``; its time average is the paper's output.

    Args:
        in_channels: input channels.
        num_classes: classes :math:`C`.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; defaults to
            :func:`bpsta_neuron` (BPSA+BPTA). ``lambda: snx.BPSTALeaky(spatial=False,
            temporal=False, init_hidden=True)`` gives the STBP baseline of the ablation.
        size: input height and width.
        channels: :math:`(c_1, c_2, c_3)`.
        hidden: width :math:`h` of the hidden fully connected layer.
        neurons_per_class: :math:`k` of the voting layer.
        dropout: drop probability of DP (not stated in the paper; 0.5).
        fc_norm: build every fully connected layer, the voting layer's included, like the
            paper's ``C`` block with ``Linear`` in place of the convolution,
            Linear-BN-ReLU-LIF (no bias, as BN follows), instead of Linear-LIF. The paper
            does not say how its FC layers are built; this is our choice for short training
            (:ref:`design-bpsta`): with BPSA a neuron that never fires gets no gradient, and
            batch normalisation keeps every FC neuron firing for part of each batch.

    Example::

        >>> import snntorch_ext as snx
        >>> net = snx.models.bpsta_small(in_channels=1, num_classes=10)

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858).
    """
    c1, c2, c3 = _check_widths("channels", channels, 3)
    check_positive_int("hidden", hidden)
    spec = [("C", c1), ("MP", 2), ("C", c2), ("C", c3), ("MP", 2), ("FC", hidden), ("DP", 0)]
    return _build(spec, in_channels, num_classes, size, neuron, neurons_per_class, dropout,
                  fc_norm)


def bpsta_middle(in_channels: int = 3, num_classes: int = 10, neuron: NeuronFactory | None = None,
                 *, size: int = 32, channels: Sequence[int] = (128, 128, 256, 512),
                 hidden: int = 512, neurons_per_class: int = 10, fc_norm: bool = False
                 ) -> SpikingSequential:
    r"""Table 1, Middle (CIFAR10, N-MNIST): 128C3-MP2-128C3-MP2-256C3-MP2-512C3-AP4-512FC-10Voting.

    .. math::

        \mathrm{C}(c_1) \to \mathrm{MP}_2 \to \mathrm{C}(c_2) \to \mathrm{MP}_2 \to
        \mathrm{C}(c_3) \to \mathrm{MP}_2 \to \mathrm{C}(c_4) \to \mathrm{AP}_4 \to
        \mathrm{FC}(h) \to \mathrm{FC}(C k) \to \mathrm{Voting}_k

    Pooling rounds down (34x34 N-MNIST frames give 17, 8, 4, 1). Arguments as
    :func:`bpsta_small` (``fc_norm`` included), with ``channels`` = :math:`(c_1, \dots, c_4)`;
    Middle has no dropout.

    Example::

        >>> import snntorch_ext as snx
        >>> net = snx.models.bpsta_middle(in_channels=3, num_classes=10)

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858).
    """
    c1, c2, c3, c4 = _check_widths("channels", channels, 4)
    check_positive_int("hidden", hidden)
    spec = [("C", c1), ("MP", 2), ("C", c2), ("MP", 2), ("C", c3), ("MP", 2), ("C", c4),
            ("AP", 4), ("FC", hidden)]
    return _build(spec, in_channels, num_classes, size, neuron, neurons_per_class, 0.0, fc_norm)


def bpsta_large(in_channels: int = 2, num_classes: int = 10, neuron: NeuronFactory | None = None,
                *, size: int = 64, channels: Sequence[int] = (128, 128, 128, 256, 512, 1024),
                hidden: int = 1024, neurons_per_class: int = 10, dropout: float = 0.5,
                fc_norm: bool = False) -> SpikingSequential:
    r"""Table 1, Large (DVS-Gesture, DVS-CIFAR10):
    128C3-128C3-AP2-128C3-AP2-256C3-AP2-512C3-AP2-1024C3-AP4-DP-1024FC-10Voting.

    .. math::

        \mathrm{C}(c_1) \to \mathrm{C}(c_2) \to \mathrm{AP}_2 \to \mathrm{C}(c_3) \to
        \mathrm{AP}_2 \to \mathrm{C}(c_4) \to \mathrm{AP}_2 \to \mathrm{C}(c_5) \to
        \mathrm{AP}_2 \to \mathrm{C}(c_6) \to \mathrm{AP}_4 \to \mathrm{DP} \to
        \mathrm{FC}(h) \to \mathrm{FC}(C k) \to \mathrm{Voting}_k

    The paper does not give the frame size. The default 64 (DVS frames of 128 x 128 resized) is
    the size at which the last average pooling leaves a 1x1 map, so that "1024C3-AP4-DP-1024FC"
    is a 1024 -> 1024 layer, as "512C3-AP4-512FC" is in Middle on 32 x 32 CIFAR10; ``size``
    must be at least 64 (128 leaves a 2x2 map and a 4096 -> 1024 layer). Arguments as
    :func:`bpsta_small`, with ``channels`` = :math:`(c_1, \dots, c_6)`.

    Example::

        >>> import snntorch_ext as snx
        >>> net = snx.models.bpsta_large(in_channels=2, num_classes=11, size=64)

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858).
    """
    c1, c2, c3, c4, c5, c6 = _check_widths("channels", channels, 6)
    check_positive_int("hidden", hidden)
    spec = [("C", c1), ("C", c2), ("AP", 2), ("C", c3), ("AP", 2), ("C", c4), ("AP", 2),
            ("C", c5), ("AP", 2), ("C", c6), ("AP", 4), ("DP", 0), ("FC", hidden)]
    return _build(spec, in_channels, num_classes, size, neuron, neurons_per_class, dropout,
                  fc_norm)
