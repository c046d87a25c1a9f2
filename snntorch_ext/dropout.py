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
from ._registry import RegisteredState

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

    **Whole sequences** (default, ``per_step=False``): ``forward`` takes the whole
    ``[T, B, ...]`` sequence and draws a fresh mask at every call. It has
    ``multi_step = True``, so :class:`~snntorch_ext.SpikingSequential` hands it the sequence.
    Called on one step ``[B, ...]`` it would take the batch for time and share one mask across
    the batch: for a per-step loop use ``per_step=True``.

    **Per step** (``per_step=True``), for snnTorch's per-step loops (``nn.Sequential`` called
    once per time step): ``forward`` takes one step ``[B, ...]``; the mask, one per sample and
    neuron, is drawn at the first step and kept in the non-persistent buffer ``mask`` until the
    state is reset like a neuron's: by :func:`snntorch_ext.utils.reset`,
    ``snntorch.utils.reset`` and ``snn.Leaky.reset_hidden()`` (which it follows, as
    :class:`~snntorch_ext.PSPLeaky` does), ``reset_mask()``, or an input of another shape.
    :class:`~snntorch_ext.SpikingSequential` steps it over time like a neuron.

    Args:
        p: probability of dropping a neuron, in :math:`[0, 1)`; 0.5 by default (the paper does
            not state its value).
        per_step: take one step ``[B, ...]`` per call and keep the mask until a reset (see
            above) instead of a whole sequence.

    Raises:
        ValueError: ``p`` outside :math:`[0, 1)`, ``per_step`` not a bool, or an input with
            fewer than two dimensions.

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

    def __init__(self, p: float = 0.5, per_step: bool = False) -> None:
        super().__init__()
        self.p = check_in_range("p", p, 0.0, 1.0)
        if not isinstance(per_step, bool):
            raise ValueError(f"per_step must be True or False, got {per_step!r}")
        self.per_step = per_step
        self.multi_step = not per_step  # SpikingSequential: the whole sequence at once
        self.stateful = per_step        # SpikingSequential: stepped over time like a neuron
        self.register_buffer("mask", torch.zeros(0), False)
        if per_step:
            object.__setattr__(self, "_registered_states", (RegisteredState(self, "_restart"),))

    @property
    def _restart(self) -> torch.Tensor:
        """The mask; assigning anything to it (snnTorch's ``reset_hidden``) restarts it."""
        return self.mask

    @_restart.setter
    def _restart(self, value: torch.Tensor) -> None:
        self.reset_mask()

    def reset_mask(self) -> None:
        """Forget the per-step mask: the next step draws a new one."""
        self.mask = torch.zeros(0, device=self.mask.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply one mask per sample to every step of ``x`` ``[T, B, ...]`` (or to the step
        ``x`` ``[B, ...]`` with ``per_step=True``)."""
        check_time_major("x", x, min_dim=2)
        if not self.training or self.p == 0.0:
            return x
        if not self.per_step:
            return x * torch.empty_like(x[0]).bernoulli_(1.0 - self.p).div_(1.0 - self.p)
        if self.mask.shape != x.shape or self.mask.dtype != x.dtype:
            self.mask = torch.empty_like(x).bernoulli_(1.0 - self.p).div_(1.0 - self.p)
        return x * self.mask

    def extra_repr(self) -> str:
        """The drop probability (and ``per_step=True`` when set)."""
        return f"p={self.p}" + (", per_step=True" if self.per_step else "")
