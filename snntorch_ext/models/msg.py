r"""Networks of the MSG + TWO paper (Yang et al. 2024): CIFARNet, VGGSNN, ResNet18/19, SEW-ResNet34.

All of them take ``[T, B, C_in, H, W]`` and return the currents of a non-spiking output layer,
``[T, B, num_classes]``, which :class:`~snntorch_ext.TWO` turns into class scores. As the paper
says, every pooling layer is an average pooling. Every convolution is followed by batch
normalisation (statistics over time and batch, as in tdBN/TET) and a spiking neuron; the
default neuron is :func:`msg_neuron` (the paper's LIF with a masked surrogate gradient). Event
data has ``in_channels=2`` (the two polarities), static images 3 (or 1 for digits). ``width``
scales every channel count (the quick CPU variants use small widths).

Example::

    >>> import torch, snntorch_ext as snx
    >>> net = snx.models.vggsnn(in_channels=2, num_classes=10, width=0.125, size=32)
    >>> net(torch.rand(4, 2, 2, 32, 32)).shape
    torch.Size([4, 2, 10])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .._checks import check_positive, check_positive_int
from ..neurons.msg import MSGLeaky
from ..sequential import SpikingSequential

__all__ = ["cifarnet", "msg_neuron", "resnet18", "resnet19", "sew_resnet34", "vggsnn"]

NeuronFactory = Callable[[], nn.Module]

def msg_neuron() -> MSGLeaky:
    r"""The paper's neuron with ``init_hidden=True``: LIF, :math:`\tau = 2`, threshold 0.5, MSG.

    .. math::

        u[t] = \tfrac12 (1 - o[t-1])\,u[t-1] + \tfrac12 x[t], \qquad o[t] = H(u[t] - 0.5),
        \qquad \frac{\partial o}{\partial u} = M \odot \max(0, 2(1 - 2|u - 0.5|)),\;
        M \sim \mathrm{Bernoulli}(0.5)

    Example::

        >>> import snntorch_ext as snx
        >>> snx.models.msg_neuron().threshold.item()
        0.5

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Sec. 3.1, 4.2).
    """
    return MSGLeaky(init_hidden=True)


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def _conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(cout)]


def _check(in_channels: int, num_classes: int, width: float, **sizes: int) -> float:
    check_positive_int("in_channels", in_channels)
    check_positive_int("num_classes", num_classes)
    for name, value in sizes.items():
        check_positive_int(name, value)
    return check_positive("width", width)


def _pooled(size: int, pools: int, name: str = "size") -> int:
    for _ in range(pools):
        size //= 2
    if size < 1:
        raise ValueError(f"{name} is too small for {pools} 2x2 poolings (needs >= {2 ** pools})")
    return size


def _plain_net(cfg: Sequence[int | str], in_channels: int, num_classes: int, make: NeuronFactory,
               width: float, size: int) -> SpikingSequential:
    """``cfg`` of channel counts (Conv3x3-BN-LIF) and ``"AP"`` (AvgPool2d(2)), then Flatten-FC."""
    layers: list[nn.Module] = []
    cin = in_channels
    for item in cfg:
        if item == "AP":
            layers.append(nn.AvgPool2d(2))
        else:
            cout = _scaled(int(item), width)
            layers += [*_conv_bn(cin, cout), make()]
            cin = cout
    side = _pooled(size, cfg.count("AP"))
    return SpikingSequential(*layers, nn.Flatten(), nn.Linear(cin * side * side, num_classes))


def cifarnet(in_channels: int = 3, num_classes: int = 10, neuron: NeuronFactory | None = None,
             width: float = 1.0, size: int = 32) -> SpikingSequential:
    r"""CIFARNet of the paper (Table 1, CIFAR-10/100, :math:`T = 4`).

    .. math::

        \text{256C3-256C3-AP2-256C3-256C3-AP2-512C3-512C3-512C3-AP2-1024C3-1024C3-AP2-FC}

    ``C3`` is Conv3x3-BN-neuron; the real-valued image enters the first convolution directly
    (direct encoding). Returns ``[T, B, num_classes]`` output currents.

    Args:
        in_channels: input channels (3 for CIFAR).
        num_classes: output classes.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`msg_neuron`.
        width: multiplier of every channel count.
        size: input height and width (at least 16).

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.cifarnet(num_classes=100, width=1 / 64)
        >>> net(torch.rand(2, 3, 3, 32, 32)).shape
        torch.Size([2, 3, 100])

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Sec. 5).
    """
    width = _check(in_channels, num_classes, width, size=size)
    cfg = [256, 256, "AP", 256, 256, "AP", 512, 512, 512, "AP", 1024, 1024, "AP"]
    return _plain_net(cfg, in_channels, num_classes, neuron or msg_neuron, width, size)


def vggsnn(in_channels: int = 2, num_classes: int = 10, neuron: NeuronFactory | None = None,
           width: float = 1.0, size: int = 48) -> SpikingSequential:
    r"""VGGSNN of TET, used by the paper for DVS-CIFAR10 and N-Caltech101 (:math:`T = 10`).

    .. math::

        \text{64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-AP2-FC}

    A VGG-11 variant with a single fully connected layer. The paper's text lists the layers in
    a garbled order; it says it follows TET (Deng et al. 2022), whose layout this is, with
    :math:`48 \times 48` event frames. Returns ``[T, B, num_classes]`` output currents.

    Args:
        in_channels: input channels (2 polarities for event data).
        num_classes: output classes.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`msg_neuron`.
        width: multiplier of every channel count.
        size: input height and width (at least 16; 48 for DVS-CIFAR10 as in TET).

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.vggsnn(width=1 / 16)
        >>> net(torch.rand(2, 3, 2, 48, 48)).shape
        torch.Size([2, 3, 10])

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Sec. 5). S. Deng, Y. Li, S. Zhang, S. Gu. Temporal
        efficient training of spiking neural network via gradient re-weighting. ICLR 2022.
    """
    width = _check(in_channels, num_classes, width, size=size)
    cfg = [64, 128, "AP", 256, 256, "AP", 512, 512, "AP", 512, 512, "AP"]
    return _plain_net(cfg, in_channels, num_classes, neuron or msg_neuron, width, size)


class _Residual(nn.Module):
    r"""A residual block on whole sequences: ``act(branch(x) + shortcut(x))`` for ``x [T, B, ...]``.

    ``shortcut`` ``None`` is the identity; ``act`` ``None`` adds spikes (SEW's ADD).
    """

    multi_step = True  # SpikingSequential hands it the [T, B, ...] tensor as is

    def __init__(self, branch: SpikingSequential, shortcut: SpikingSequential | None,
                 act: SpikingSequential | None) -> None:
        super().__init__()
        self.branch = branch
        self.shortcut = shortcut
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        y = self.branch(x) + identity
        return y if self.act is None else self.act(y)


def _basic_block(cin: int, cout: int, stride: int, make: NeuronFactory) -> _Residual:
    """Spiking ResNet block: LIF(BN(conv(LIF(BN(conv(x))))) + shortcut(x))."""
    branch = SpikingSequential(*_conv_bn(cin, cout, 3, stride), make(), *_conv_bn(cout, cout))
    shortcut = None
    if stride != 1 or cin != cout:
        shortcut = SpikingSequential(*_conv_bn(cin, cout, 1, stride))
    return _Residual(branch, shortcut, SpikingSequential(make()))


def _sew_block(cin: int, cout: int, stride: int, make: NeuronFactory) -> _Residual:
    """SEW block with ADD: LIF(BN(conv(LIF(BN(conv(x)))))) + shortcut(x), spikes added."""
    branch = SpikingSequential(*_conv_bn(cin, cout, 3, stride), make(),
                               *_conv_bn(cout, cout), make())
    shortcut = None
    if stride != 1 or cin != cout:
        shortcut = SpikingSequential(*_conv_bn(cin, cout, 1, stride), make())
    return _Residual(branch, shortcut, None)


def _stages(block: Callable[[int, int, int, NeuronFactory], _Residual], cin: int,
            plan: Sequence[tuple[int, int, int]], make: NeuronFactory, width: float
            ) -> tuple[list[nn.Module], int]:
    """``plan`` of (channels, blocks, first stride) per stage; returns the blocks and channels."""
    blocks: list[nn.Module] = []
    for channels, count, stride in plan:
        cout = _scaled(channels, width)
        for index in range(count):
            blocks.append(block(cin, cout, stride if index == 0 else 1, make))
            cin = cout
    return blocks, cin


def resnet18(in_channels: int = 2, num_classes: int = 10, neuron: NeuronFactory | None = None,
             width: float = 1.0) -> SpikingSequential:
    r"""Spiking ResNet-18 (CIFAR-style stem), used by the paper for DVS-CIFAR10 and N-Caltech101.

    .. math::

        \text{64C3} \to [64]\times2 \to [128]\times2 \to [256]\times2 \to [512]\times2
        \to \text{GAP} \to \text{FC}

    Each :math:`[c]` is a basic block
    :math:`\mathrm{LIF}(\mathrm{BN}(\mathrm{conv}(\mathrm{LIF}(\mathrm{BN}(\mathrm{conv}(x)))))
    + \mathrm{shortcut}(x))`, stride 2 in the first block of stages 2-4 with a
    Conv1x1-BN shortcut, as in Dspike/TET. The stem is a 3x3 convolution with stride 1 and no
    pooling (small inputs); GAP is global average pooling. Returns ``[T, B, num_classes]``.

    Args:
        in_channels: input channels (2 for event data, 3 for images).
        num_classes: output classes.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`msg_neuron`.
        width: multiplier of every channel count.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.resnet18(width=1 / 16)
        >>> net(torch.rand(2, 3, 2, 32, 32)).shape
        torch.Size([2, 3, 10])

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Sec. 5). K. He, X. Zhang, S. Ren, J. Sun. Deep residual
        learning for image recognition. CVPR 2016.
    """
    width = _check(in_channels, num_classes, width)
    make = neuron or msg_neuron
    stem = _scaled(64, width)
    blocks, cout = _stages(_basic_block, stem, [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)],
                           make, width)
    return SpikingSequential(*_conv_bn(in_channels, stem), make(), *blocks,
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cout, num_classes))


def resnet19(in_channels: int = 3, num_classes: int = 10, neuron: NeuronFactory | None = None,
             width: float = 1.0) -> SpikingSequential:
    r"""Spiking ResNet-19 of tdBN/TET (the paper's comparison architecture on CIFAR).

    .. math::

        \text{128C3} \to [128]\times3 \to [256]\times3 \to [512]\times2 \to \text{GAP}
        \to \text{FC256} \to \text{LIF} \to \text{FC}

    Basic blocks as in :func:`resnet18`; stride 2 in the first block of stages 2 and 3.
    Returns ``[T, B, num_classes]`` output currents.

    Args:
        in_channels: input channels (3 for CIFAR).
        num_classes: output classes.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`msg_neuron`.
        width: multiplier of every channel count (the hidden FC256 included).

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.resnet19(width=1 / 32)
        >>> net(torch.rand(2, 3, 3, 32, 32)).shape
        torch.Size([2, 3, 10])

    Reference:
        H. Zheng, Y. Wu, L. Deng, Y. Hu, G. Li. Going deeper with directly-trained larger spiking
        neural networks. AAAI 2021. L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training
        temporal spiking neural network with sparse surrogate gradient. 2024 (Table 1).
    """
    width = _check(in_channels, num_classes, width)
    make = neuron or msg_neuron
    stem, hidden = _scaled(128, width), _scaled(256, width)
    blocks, cout = _stages(_basic_block, stem, [(128, 3, 1), (256, 3, 2), (512, 2, 2)], make,
                           width)
    return SpikingSequential(*_conv_bn(in_channels, stem), make(), *blocks,
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cout, hidden),
                             make(), nn.Linear(hidden, num_classes))


def sew_resnet34(in_channels: int = 3, num_classes: int = 1000,
                 neuron: NeuronFactory | None = None, width: float = 1.0) -> SpikingSequential:
    r"""SEW-ResNet-34 with ADD connections (the paper's ImageNet network, :math:`T = 4`).

    .. math::

        \text{64C7s2} \to \text{AP3s2} \to [64]\times3 \to [128]\times4 \to [256]\times6
        \to [512]\times3 \to \text{GAP} \to \text{FC}

    Each :math:`[c]` is a spike-element-wise block
    :math:`\mathrm{LIF}(\mathrm{BN}(\mathrm{conv}(\mathrm{LIF}(\mathrm{BN}(\mathrm{conv}(x))))))
    + \mathrm{shortcut}(x)`, the spikes of both paths added (ADD); the downsampling shortcut
    is Conv1x1-BN-LIF. The stem's max pooling of SEW-ResNet is an average pooling here, as the
    paper replaces every max pooling. Returns ``[T, B, num_classes]`` output currents.

    Args:
        in_channels: input channels (3 for ImageNet).
        num_classes: output classes.
        neuron: zero-argument factory of a neuron with ``init_hidden=True``; default
            :func:`msg_neuron`.
        width: multiplier of every channel count.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> net = snx.models.sew_resnet34(num_classes=10, width=1 / 16)
        >>> net(torch.rand(2, 3, 3, 32, 32)).shape
        torch.Size([2, 3, 10])

    Reference:
        W. Fang, Z. Yu, Y. Chen, T. Huang, T. Masquelier, Y. Tian. Deep residual learning in
        spiking neural networks. NeurIPS 2021. L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly
        training temporal spiking neural network with sparse surrogate gradient. 2024 (Table 1).
    """
    width = _check(in_channels, num_classes, width)
    make = neuron or msg_neuron
    stem = _scaled(64, width)
    blocks, cout = _stages(_sew_block, stem, [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)],
                           make, width)
    return SpikingSequential(*_conv_bn(in_channels, stem, 7, 2), make(),
                             nn.AvgPool2d(3, 2, padding=1), *blocks,
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cout, num_classes))
