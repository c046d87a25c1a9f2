r"""Dropout with one mask per sample, shared by all time steps (the "DP" of Table 1 of BPSA/BPTA).

Example::

    >>> import torch, snntorch_ext as snx
    >>> drop = snx.TimeSharedDropout(p=0.5)
    >>> y = drop(torch.ones(4, 2, 8))          # [T, B, ...]: the same neurons drop at every step
    >>> bool((y == y[0]).all())
    True
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_in_range, check_time_major

__all__ = ["TimeSharedDropout"]


class TimeSharedDropout(nn.Module):
    r"""Dropout whose mask is drawn once per sample and neuron and kept for the whole sequence.

    For an input :math:`x \in \mathbb{R}^{T \times B \times \dots}` in training mode:

    .. math::

        m_{b,i} \sim \mathrm{Bernoulli}(1 - p), \qquad
        y_{t,b,i} = \frac{m_{b,i}}{1 - p}\, x_{t,b,i} \quad \forall t,

    so a dropped neuron is silent for the whole presentation of a sample, instead of at random
    steps as with ``nn.Dropout`` applied step by step, which would only thin the spike train.
    In evaluation mode (or with ``p = 0``) it is the identity. The :math:`1/(1-p)` rescaling is
    PyTorch's convention (inverted dropout); the expected value of :math:`y` is :math:`x`.

    It has ``multi_step = True``: :class:`~snntorch_ext.SpikingSequential` hands it the whole
    ``[T, B, ...]`` sequence. In a hand-written per-step loop call it once on the stacked
    sequence, or draw the mask yourself; a per-step call would redraw the mask every step.

    Args:
        p: probability of dropping a neuron, in :math:`[0, 1)`; 0.5 by default (the paper does
            not state its value).

    Raises:
        ValueError: ``p`` outside :math:`[0, 1)`, or an input with fewer than two dimensions.

    Example::

        >>> import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(nn.Linear(4, 8), snn.Leaky(beta=0.9, init_hidden=True),
        ...                             snx.TimeSharedDropout(p=0.2), nn.Linear(8, 2))
        >>> net(torch.rand(5, 3, 4)).shape
        torch.Size([5, 3, 2])

    Reference:
        C. Lee, S. S. Sarwar, P. Panda, G. Srinivasan, K. Roy. Enabling spike-based
        backpropagation for training deep neural network architectures. Frontiers in
        Neuroscience 14:119, 2020; used as "DP" by G. Shen, D. Zhao, Y. Zeng, Patterns
        3(6):100522, 2022.
    """

    multi_step = True

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = check_in_range("p", p, 0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply one mask per sample to every step of ``x`` ``[T, B, ...]``."""
        check_time_major("x", x, min_dim=2)
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x[0]).bernoulli_(1.0 - self.p)
        return x * (keep / (1.0 - self.p))

    def extra_repr(self) -> str:
        """The drop probability."""
        return f"p={self.p}"
