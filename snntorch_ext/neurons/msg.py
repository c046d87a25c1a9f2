r"""The LIF neuron of the MSG + TWO paper as a drop-in ``snn.Leaky``.

Example::

    >>> import torch, snntorch_ext as snx
    >>> lif = snx.MSGLeaky()                      # tau = 2, threshold 0.5, hard reset, MSG(p=0.5)
    >>> spk, mem = lif(torch.ones(2, 3), lif.init_leaky())
"""

from __future__ import annotations

from collections.abc import Callable

import snntorch as snn
import torch

from .._checks import check_positive
from ..surrogate import masked

__all__ = ["MSGLeaky"]


class MSGLeaky(snn.Leaky):
    r"""The LIF neuron of Yang et al. 2024: :math:`\tau = 2`, threshold 0.5, hard reset, MSG.

    The paper's neuron (Eq. 2-5) integrates its input with the factor :math:`1/\tau`,
    :math:`u \leftarrow u + (x - u)/\tau`, fires at :math:`\vartheta = 0.5` and resets to zero.
    With :math:`\beta = 1 - 1/\tau` this is ``snn.Leaky(reset_mechanism="zero")`` whose input is
    scaled by :math:`1 - \beta`:

    .. math::

        u[t] = \beta\,\big(1 - \mathrm{sg}(o[t-1])\big)\,u[t-1] + (1 - \beta)\,x[t], \qquad
        o[t] = H(u[t] - \vartheta), \qquad \beta = 1 - \frac{1}{\tau}

    Why a class and not ``snn.Leaky`` with a rescaled threshold: scaling the input by
    :math:`1-\beta` is not the same as scaling the threshold by :math:`1/(1-\beta)` once a
    surrogate gradient is involved (the surrogate would see :math:`z` stretched by
    :math:`1/(1-\beta)`), and a recipe builds its neurons as
    ``neuron(init_hidden=True, spike_grad=..., **kwargs)``, which leaves no room for an extra
    scaling layer. Everything else is ``snn.Leaky``: the arguments, ``init_hidden``, ``output``,
    ``learn_beta`` (the input gain :math:`1 - \beta` then learns with :math:`\beta`, as in a
    parametric LIF), ``reset_hidden()`` and :func:`snntorch_ext.utils.reset`.

    **Without batch norm the input is halved.** The factor :math:`1 - \beta = 1/\tau` (1/2 by
    default) scales the input current against the threshold 0.5, so a layer fires only where
    its input reaches 1. The paper's networks normalise every convolution with batch norm,
    which learns the scale; in a network without it (a plain conv or linear stack), initialise
    or scale the weights for inputs near 1, or the layers may stay silent.

    Args:
        beta: decay :math:`\beta = 1 - 1/\tau` in :math:`[0, 1)`; default 0.5 (:math:`\tau = 2`).
        threshold: firing threshold :math:`\vartheta > 0`; default 0.5.
        spike_grad: surrogate; default a fresh
            ``snx.surrogate.masked(piecewise_linear(alpha=2.0), p=0.5)`` per neuron. Pass
            ``snx.surrogate.piecewise_linear()`` for the unmasked baseline.
        reset_mechanism: ``"zero"`` (the paper's hard reset, default), ``"subtract"`` or
            ``"none"``.
        **kwargs: any other argument of ``snn.Leaky`` (``init_hidden``, ``output``,
            ``learn_beta``, ``learn_threshold``, ``reset_delay``, ...).

    Raises:
        ValueError: if ``beta`` is outside :math:`[0, 1)` or ``threshold`` (a number, or every
            entry of a tensor) is not > 0.

    Example::

        >>> import torch, torch.nn as nn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(nn.Linear(4, 3), snx.MSGLeaky(init_hidden=True))
        >>> net(torch.rand(5, 2, 4)).shape
        torch.Size([5, 2, 3])

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Eq. 2-5, Sec. 3.1).
    """

    def __init__(self, beta: float | torch.Tensor = 0.5, threshold: float = 0.5,
                 spike_grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 reset_mechanism: str = "zero", **kwargs) -> None:
        decay = torch.as_tensor(beta, dtype=torch.float64, device="cpu")
        if decay.numel() == 0 or not bool(((decay >= 0) & (decay < 1)).all()):
            raise ValueError(f"beta must lie in [0, 1) (beta = 1 - 1/tau), got {beta!r}")
        if isinstance(threshold, torch.Tensor):
            for value in threshold.detach().flatten().tolist() or [threshold]:
                check_positive("threshold", value)
        else:
            threshold = check_positive("threshold", threshold)
        super().__init__(beta, threshold=threshold,
                         spike_grad=masked(p=0.5) if spike_grad is None else spike_grad,
                         reset_mechanism=reset_mechanism, **kwargs)

    def mem_reset(self, mem: torch.Tensor) -> torch.Tensor:
        """The detached reset signal :math:`H(u - \\vartheta)`, as ``snn.Leaky`` computes it,
        without recording a graph that is thrown away (and without drawing an MSG mask)."""
        with torch.no_grad():
            return self.spike_grad(mem - self.threshold)

    def forward(self, input_: torch.Tensor, mem: torch.Tensor | None = None):
        r"""One step: :math:`u \leftarrow \beta (1 - o) u + (1 - \beta) x`; returns what
        ``snn.Leaky`` returns (``(spk, mem)``, or ``spk`` with ``init_hidden=True``)."""
        return super().forward((1 - self.beta.clamp(0, 1)) * input_, mem)
