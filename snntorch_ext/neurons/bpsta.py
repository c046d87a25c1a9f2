r"""The LIF neuron of Shen, Zhao and Zeng (2022) with spatial (BPSA) and temporal (BPTA) adjustment.

Example::

    >>> import torch, snntorch_ext as snx
    >>> lif = snx.BPSTALeaky(beta=0.9, threshold=0.5, alpha=0.8)
    >>> spk, mem = lif(torch.ones(2, 3), lif.init_leaky())
    >>> spk
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import snntorch as snn
import torch

from .._checks import check_in_range, check_positive
from ..surrogate import SurrogateFunction, _bpsa_grad, rectangular

__all__ = ["BPSTALeaky"]

SpikeFn = Callable[[torch.Tensor], torch.Tensor]


def _numbers(value: float | torch.Tensor) -> list:
    return value.detach().flatten().tolist() if isinstance(value, torch.Tensor) else [value]


class BPSTALeaky(snn.Leaky):
    r"""Leaky integrate-and-fire neuron with hard reset, trained with BPSA and BPTA.

    The forward pass is exactly ``snn.Leaky(reset_mechanism="zero")`` (paper Eq. 2-4): with
    :math:`\lambda` = ``beta`` and :math:`\vartheta` = ``threshold``,

    .. math::

        u[t+1] = \lambda \big(1 - o[t]\big)\, u[t] + I[t+1], \qquad
        o[t+1] = H\big(u[t+1] - \vartheta\big).

    Only the backward pass changes, through two switches that give the three columns of the
    paper's ablation (Table 8): ``spatial=False, temporal=False`` is the STBP baseline,
    ``spatial=True, temporal=False`` is BPSA and ``spatial=True, temporal=True`` (the default)
    is BPSA+BPTA.

    **Spatial adjustment (BPSA, Eq. 9).** With ``spatial=True`` the spike function is
    :func:`snntorch_ext.surrogate.bpsa`: :math:`\partial o / \partial u = 1/u` where the neuron
    fires and 0 elsewhere. It reads the neuron's current ``threshold`` at every step, so it stays
    in sync when ``learn_threshold=True`` (the threshold then gets the gradient
    :math:`\partial o/\partial\vartheta = -1/u` where the neuron fires, through
    :math:`z = u - \vartheta`, as with every snnTorch surrogate; keep a learnt threshold
    positive, e.g. by clamping it after the optimiser step, since :math:`1/u` needs
    :math:`u > \vartheta > 0`). With ``spatial=False`` the
    spike function is ``spike_grad``, by default STBP's rectangle
    :func:`snntorch_ext.surrogate.rectangular` of width 1.

    **Temporal adjustment (BPTA, Eq. 10).** With ``temporal=True`` a residual path from the
    spike :math:`o[t]` into :math:`u[t+1]`, with weight :math:`\lambda\alpha`, carries the error
    across spikes. It is zero in the forward pass (:math:`\mathrm{sg}` is stop-gradient, i.e.
    ``detach``):

    .. math::

        u[t+1] = \lambda \Big( \big(1 - \mathrm{sg}(o[t])\big)\, u[t]
                 + \alpha \big(o[t] - \mathrm{sg}(o[t])\big) \Big) + I[t+1].

    Back-propagated, with :math:`\epsilon[t] = \partial L / \partial u[t]`, :math:`g'` the spike
    function's derivative and :math:`s[t]` the error that reaches :math:`o[t]` from the next layer:

    .. math::

        \epsilon[t] = g'(u[t]) \big( s[t] + \lambda \alpha\, \epsilon[t+1] \big)
                      + \lambda \big(1 - o[t]\big)\, \epsilon[t+1],

    so :math:`\partial o[t+1] / \partial o[t]` gains the paper's term
    :math:`\lambda \alpha\, g'(u[t+1])`. ``temporal=False`` or ``alpha=0`` removes the path.

    ``alpha`` defaults to the paper's 0.8; the authors' released code uses 0.2.

    Everything else is ``snn.Leaky``: ``forward(input_, mem=None)`` returns ``(spk, mem)``
    (``spk`` alone with ``init_hidden=True``, both with ``output=True`` as well);
    ``init_hidden``, ``learn_beta``, ``learn_threshold``, ``reset_hidden()``,
    ``snntorch.utils.reset`` and :func:`snntorch_ext.utils.reset` work as for ``snn.Leaky``. The
    reset is always to zero with snnTorch's default ``reset_delay=True`` (the paper's neuron);
    ``reset_mechanism`` is accepted for drop-in use but must be ``"zero"``. ``alpha`` is a buffer
    (saved in ``state_dict``, moved by ``.to()``) like ``beta``.

    Args:
        beta: membrane decay :math:`\lambda \in [0, 1]` (number or tensor, as in ``snn.Leaky``).
        threshold: firing threshold :math:`\vartheta`; must be > 0 with ``spatial=True``.
        alpha: residual factor :math:`\alpha \ge 0` of BPTA.
        spatial: use BPSA as the spike function's derivative.
        temporal: add the BPTA residual path.
        spike_grad: spike function used when ``spatial=False`` (default rectangle of width 1);
            giving one together with ``spatial=True`` is a ValueError.
        reset_mechanism: must be ``"zero"``.
        **others: ``surrogate_disable``, ``init_hidden``, ``inhibition``, ``learn_beta``,
            ``learn_threshold``, ``state_quant``, ``output``, ``graded_spikes_factor`` and
            ``learn_graded_spikes_factor`` are those of ``snn.Leaky``.

    Raises:
        ValueError: ``beta`` outside [0, 1], ``threshold`` <= 0 with ``spatial=True``, ``alpha``
            negative or not finite, ``spike_grad`` together with ``spatial=True``, a
            ``reset_mechanism`` other than ``"zero"``, or an explicit ``mem`` whose shape differs
            from the input's.

    Example::

        >>> import torch, torch.nn as nn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(
        ...     nn.Linear(4, 30), snx.BPSTALeaky(init_hidden=True), snx.Voting(3, 10))
        >>> net(torch.rand(16, 2, 4)).shape                     # [T, B, classes]
        torch.Size([16, 2, 3])
        >>> baseline = snx.BPSTALeaky(spatial=False, temporal=False)   # STBP's rectangle

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858).
    """

    def __init__(
        self,
        beta: float | torch.Tensor = 0.9,
        threshold: float | torch.Tensor = 0.5,
        alpha: float = 0.8,
        spatial: bool = True,
        temporal: bool = True,
        spike_grad: SpikeFn | None = None,
        surrogate_disable: bool = False,
        init_hidden: bool = False,
        inhibition: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        reset_mechanism: str = "zero",
        state_quant: Callable | bool = False,
        output: bool = False,
        graded_spikes_factor: float = 1.0,
        learn_graded_spikes_factor: bool = False,
    ) -> None:
        for value in _numbers(beta):
            check_in_range("beta", value, 0.0, 1.0, closed_high=True)
        for value in _numbers(threshold):
            if spatial:
                check_positive("threshold", value)
            else:
                check_in_range("threshold", value, -math.inf, math.inf)
        alpha = check_in_range("alpha", alpha, 0.0, math.inf)
        if reset_mechanism != "zero":
            raise ValueError(f"reset_mechanism must be 'zero' (BPSTALeaky resets to zero, paper "
                             f"Eq. 2), got {reset_mechanism!r}")
        if spatial and spike_grad is not None:
            raise ValueError(f"spike_grad is only used with spatial=False (spatial=True uses "
                             f"BPSA), got spike_grad={spike_grad!r} with spatial=True")
        super().__init__(
            beta, threshold=threshold, spike_grad=spike_grad or rectangular(width=1.0),
            surrogate_disable=surrogate_disable, init_hidden=init_hidden, inhibition=inhibition,
            learn_beta=learn_beta, learn_threshold=learn_threshold, reset_mechanism="zero",
            state_quant=state_quant, output=output, graded_spikes_factor=graded_spikes_factor,
            learn_graded_spikes_factor=learn_graded_spikes_factor,
        )
        self.spatial = bool(spatial)
        self.temporal = bool(temporal)
        self.register_buffer("alpha", torch.as_tensor(alpha))
        self._spk_prev: torch.Tensor | None = None
        if self.spatial and not surrogate_disable:
            self.spike_grad = self._bpsa
        if self.temporal:
            self.state_function = self._bpta_zero

    def _bpsa(self, z: torch.Tensor) -> torch.Tensor:
        """BPSA with the neuron's current threshold (see :func:`snntorch_ext.surrogate.bpsa`)."""
        return SurrogateFunction.apply(z, partial(_bpsa_grad, threshold=self.threshold.detach()))

    def mem_reset(self, mem: torch.Tensor) -> torch.Tensor:
        """``sg(o[t])`` as in ``snn.Leaky``; with BPTA the spike ``o[t]`` itself is kept too."""
        spk = self.spike_grad(mem - self.threshold)
        self._spk_prev = spk if self.temporal else None
        return spk.detach()

    def _bpta_zero(self, input_: torch.Tensor) -> torch.Tensor:
        # Eq. 10: u[t+1] = lam * ((1 - sg(o[t])) * u[t] + alpha * (o[t] - sg(o[t]))) + I[t+1].
        # o[t] = g(u[t]) comes from mem_reset, so the residual, zero in value, back-propagates
        # lam * alpha * g'(u[t]) * eps[t+1]. self.reset is sg(o[t]) (snn.Leaky).
        spk_prev, self._spk_prev = self._spk_prev, None
        residual = self.alpha * (spk_prev - self.reset)
        return self.beta.clamp(0, 1) * ((1 - self.reset) * self.mem + residual) + input_

    def forward(self, input_: torch.Tensor, mem: torch.Tensor | None = None):
        """One time step, exactly as ``snn.Leaky.forward``; checks the shape of ``mem``."""
        if mem is not None and mem.numel() and mem.shape != input_.shape:
            raise ValueError(f"mem must have the shape of input_ {tuple(input_.shape)}, "
                             f"got {tuple(mem.shape)}")
        return super().forward(input_, mem)

    def extra_repr(self) -> str:
        """The parameters of the rule, shown by ``print(neuron)``."""
        def show(t: torch.Tensor) -> str:
            return f"{t.item():.6g}" if t.numel() == 1 else f"tensor of shape {tuple(t.shape)}"

        return (f"beta={show(self.beta)}, threshold={show(self.threshold)}, "
                f"alpha={show(self.alpha)}, spatial={self.spatial}, temporal={self.temporal}")
