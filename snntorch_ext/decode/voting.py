r"""The voting output layer of Shen, Zhao and Zeng (2022) (and of Wu et al. 2019).

Example::

    >>> import torch, snntorch_ext as snx
    >>> snx.Voting(num_classes=10, neurons_per_class=10)(torch.ones(4, 2, 100)).shape
    torch.Size([4, 2, 10])
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int

__all__ = ["Voting"]


class Voting(nn.Module):
    r"""Class scores as the mean activity of a group of output neurons per class.

    The output layer has :math:`k` neurons per class; the score of class :math:`c` is the mean of
    its group of consecutive neurons:

    .. math::

        y_c = \frac{1}{k} \sum_{j=0}^{k-1} o_{c k + j}, \qquad c = 0, \dots, C - 1.

    The input is ``[..., C*k]`` (any leading dimensions: ``[B, C*k]`` for one step,
    ``[T, B, C*k]`` for a sequence) and the output ``[..., C]``, same dtype and device. It is
    stateless, so in :class:`~snntorch_ext.SpikingSequential` it runs once on all steps. Put it
    after the spiking output layer; the paper's loss is the MSE between the time average of
    ``y`` and the one-hot label.

    Args:
        num_classes: :math:`C`.
        neurons_per_class: :math:`k`, 10 by default (Table 1's "10Voting" names the 10 classes;
            the paper does not state :math:`k`).

    Raises:
        ValueError: non-positive sizes, or an input whose last dimension is not ``C*k``.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> vote = snx.Voting(2, neurons_per_class=3)
        >>> vote(torch.tensor([[1., 1., 0., 0., 0., 1.]]))
        tensor([[0.6667, 0.3333]])

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858); Y. Wu, L. Deng, G. Li, J. Zhu, Y. Xie, L. Shi. Direct training for
        spiking neural networks: faster, larger, better. AAAI 2019.
    """

    def __init__(self, num_classes: int, neurons_per_class: int = 10) -> None:
        super().__init__()
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.neurons_per_class = check_positive_int("neurons_per_class", neurons_per_class)

    @property
    def in_features(self) -> int:
        """Number of output neurons the layer expects, :math:`C k`."""
        return self.num_classes * self.neurons_per_class

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Average each class's group of neurons: ``[..., C*k] -> [..., C]``."""
        if isinstance(x, tuple):
            raise ValueError(
                f"x must be a tensor [..., num_classes * neurons_per_class = {self.in_features}], "
                f"got a tuple of {len(x)}: the (spk, mem) of an snnTorch neuron built with "
                "output=True; pass the spikes (spk), build the neuron with output=False, or use "
                "snx.SpikingSequential, which passes the first element on"
            )
        if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[-1] != self.in_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be [..., num_classes * neurons_per_class = "
                             f"{self.in_features}], got shape {shape}")
        return x.unflatten(-1, (self.num_classes, self.neurons_per_class)).mean(-1)

    def extra_repr(self) -> str:
        """``num_classes`` and ``neurons_per_class``."""
        return f"num_classes={self.num_classes}, neurons_per_class={self.neurons_per_class}"
