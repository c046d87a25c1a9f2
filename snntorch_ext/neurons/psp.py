r"""The LIF neuron with a postsynaptic-potential (PSP) output of spike-sequence-label STBP (2024).

Example::

    >>> import torch, snntorch_ext as snx
    >>> lif = snx.PSPLeaky(tau_m=8.0, tau_s=4.0, threshold=1.0)
    >>> spk, psp, mem = lif(torch.full((1, 2), 2.0))
    >>> spk, psp
    (tensor([[1., 1.]]), tensor([[0.2500, 0.2500]]))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import snntorch as snn
import torch

from .._checks import check_positive
from .._registry import RegisteredState
from ..surrogate import atan

__all__ = ["PSPLeaky", "psp_step"]

SpikeFn = Callable[[torch.Tensor], torch.Tensor]


def _numbers(value: float | torch.Tensor) -> list:
    return value.detach().flatten().tolist() if isinstance(value, torch.Tensor) else [value]


def _check_tau(name: str, tau: float) -> float:
    tau = check_positive(name, tau)
    if tau < 1.0:
        raise ValueError(f"{name} must be >= 1 (the decay 1 - 1/{name} must lie in [0, 1)), "
                         f"got {tau!r}")
    return tau


def psp_step(psp: torch.Tensor, spk: torch.Tensor, tau_s: float | torch.Tensor) -> torch.Tensor:
    r"""One step of the postsynaptic potential (the paper's pseudo-code line 7, ``Compute_psp``).

    .. math:: a[t] = \Big(1 - \frac{1}{\tau_s}\Big)\, a[t-1] + \frac{o[t]}{\tau_s}

    A pure function: :class:`~snntorch_ext.PSPLeaky` calls it after every spike update. The PSP
    of a neuron that fires at every step rises towards 1.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.neurons.psp_step(torch.zeros(2), torch.tensor([1.0, 0.0]), 4.0)
        tensor([0.2500, 0.0000])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024 (pseudo-code lines 6-7); the form of the PSP follows W. Zhang, P. Li, Temporal
        spike sequence learning via backpropagation for deep spiking neural networks
        (TSSL-BP), NeurIPS 2020.
    """
    return (1.0 - 1.0 / tau_s) * psp + spk / tau_s


class PSPLeaky(snn.Leaky):
    r"""Leaky integrate-and-fire neuron whose output to the next layer is its PSP.

    The neuron of spike-sequence-label STBP (pseudo-code lines 6-7): a LIF membrane with decay
    :math:`1 - 1/\tau_m` and a hard reset, followed by a first-order synaptic filter of the
    spikes, the postsynaptic potential :math:`a`, which is what the next layer receives. With
    :math:`\mathrm{sg}` = stop-gradient (``detach``) and :math:`\vartheta` = ``threshold``:

    .. math::

        u[t] &= \Big(1 - \frac{1}{\tau_m}\Big) \big(1 - \mathrm{sg}(o[t-1])\big)\, u[t-1]
                + I[t], \qquad o[t] = H\big(u[t] - \vartheta\big), \\
        a[t] &= \Big(1 - \frac{1}{\tau_s}\Big)\, a[t-1] + \frac{o[t]}{\tau_s},

    with :math:`u[-1] = a[-1] = 0`. The membrane part is exactly
    ``snn.Leaky(beta=1 - 1/tau_m, reset_mechanism="zero")`` (``beta`` is set from ``tau_m``);
    the PSP is :func:`~snntorch_ext.neurons.psp_step`. The backward pass is ordinary BPTT through
    both recursions with the surrogate ``spike_grad``: the paper's "PSP iteration factor"
    :math:`\hat\delta_t = \partial L/\partial a[t]` and "membrane iteration factor"
    :math:`\tilde\delta_t = \partial L/\partial u[t]` are what autograd computes,

    .. math::

        \hat\delta_t = \frac{\partial L}{\partial a[t]}\Big|_{\mathrm{direct}}
            + \Big(1 - \frac{1}{\tau_s}\Big) \hat\delta_{t+1}, \qquad
        \tilde\delta_t = g'(u[t])\,\frac{\hat\delta_t}{\tau_s}
            + \Big(1 - \frac{1}{\tau_m}\Big)\big(1 - o[t]\big)\, \tilde\delta_{t+1},

    and :math:`\Delta W^l = \sum_t \tilde\delta^l_t\, (a^{l-1}_t)^\top` (Eq. 18), where
    :math:`g'` is the surrogate derivative and the direct term is the error from the next layer
    (and from the loss, through :math:`o[t]`, for an output layer).

    **Outputs.** ``forward(input_, mem=None, psp=None)`` returns ``(spk, psp, mem)``. With
    ``init_hidden=True`` the state lives in the module (``self.mem``, ``self.psp``) and the call
    returns the PSP alone (the value passed on in an ``nn.Sequential`` or
    :class:`~snntorch_ext.SpikingSequential`), or ``(spk, psp, mem)`` with ``output=True`` (so
    an output layer with ``output=True`` in a :class:`~snntorch_ext.SpikingSequential` passes
    on its *spikes*, the first element). The spikes of the last step are always kept in
    ``self.spk``; :class:`snntorch_ext.metrics.FiringRates` counts those, not the PSP.

    **State.** ``mem``, ``psp`` and ``spk`` (the spikes of the last step) are non-persistent
    buffers, like ``syn`` and ``mem`` of ``snn.Synaptic``. With ``init_hidden=False`` the state is
    explicit in the call, ``spk, psp, mem = lif(x, mem, psp)``: detach or clone both for truncated
    BPTT, and keep one pair per sequence to run several sequences through one module. As in
    ``snn.Synaptic``, a ``psp`` left out continues from the PSP the neuron stored at its last step
    (zero after ``reset_mem()``); left out while ``mem`` is not the membrane the neuron returned
    last, it also issues a :class:`UserWarning` that says so. With ``init_hidden=True`` every
    snnTorch path that resets or detaches the membrane covers the PSP and the spikes too:
    :func:`snntorch_ext.utils.reset`, ``snntorch.utils.reset``, the class methods
    ``snn.Leaky.reset_hidden()``/``detach_hidden()`` (which ``snntorch.backprop.TBPTT`` and
    hand-written truncated BPTT call) and ``PSPLeaky.reset_hidden()``/``detach_hidden()``;
    ``reset_mem()`` zeroes all three. After a reset the neuron holds no graph, so ``copy.deepcopy``
    and ``torch.save`` work. (snnTorch's class methods reach the neurons through snnTorch's registry
    of live neurons, ``snn.SpikingNeuron.instances``, in which each ``PSPLeaky`` enters its ``psp``
    and ``spk`` as two state-only members; a copy made by ``copy.deepcopy`` or unpickling is, as for
    ``snn.Leaky``, not in that registry.)

    **Our choices** (the paper states none of them): the defaults :math:`\tau_m = 8`,
    :math:`\tau_s = 4`, :math:`\vartheta = 1` (after TSSL-BP, see :ref:`design-ssl`); the default
    surrogate, snnTorch's own default arctan with :math:`\alpha = 2`
    (:func:`snntorch_ext.surrogate.atan`, which keeps the dtype): the paper does not name its
    surrogate, and with STBP's rectangle of width 1 the default-initialised N-MNIST network of
    :func:`snntorch_ext.models.ssl_nmnist` stays silent and does not learn (a silent layer gets no
    gradient through the rectangle), while with the arctan it does; snnTorch's one-step reset delay
    (``reset_delay=True``), which is the :math:`\mathrm{sg}(o[t-1])` of the recursion above.

    Args:
        tau_m: membrane time constant :math:`\tau_m \ge 1` (``beta = 1 - 1/tau_m``).
        tau_s: synaptic (PSP) time constant :math:`\tau_s \ge 1`; saved as a buffer.
        threshold: firing threshold :math:`\vartheta > 0`.
        spike_grad: surrogate spike function ``f(mem - threshold) -> spk``; default
            ``snx.surrogate.atan(alpha=2.0)``.
        reset_mechanism: ``"zero"`` (the paper's hard reset, default), or snnTorch's
            ``"subtract"``/``"none"`` for experiments.
        surrogate_disable: as in ``snn.Leaky``, and so are ``init_hidden``, ``inhibition``,
            ``learn_beta``, ``learn_threshold``, ``state_quant``, ``output``,
            ``graded_spikes_factor``, ``learn_graded_spikes_factor`` and ``reset_delay``.

    Raises:
        ValueError: ``tau_m`` or ``tau_s`` below 1 or not finite, ``threshold`` <= 0, an
            unknown ``reset_mechanism``, or an explicit ``mem``/``psp`` whose shape differs
            from the input's.

    Example::

        >>> import torch, torch.nn as nn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(
        ...     nn.Linear(4, 8), snx.PSPLeaky(init_hidden=True),               # passes its PSP
        ...     nn.Linear(8, 3), snx.PSPLeaky(init_hidden=True, output=True))  # passes spikes
        >>> net(torch.rand(25, 2, 4)).shape
        torch.Size([25, 2, 3])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep
        spiking neural networks (TSSL-BP). NeurIPS 2020.
    """

    def __init__(
        self,
        tau_m: float = 8.0,
        tau_s: float = 4.0,
        threshold: float | torch.Tensor = 1.0,
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
        reset_delay: bool = True,
    ) -> None:
        tau_m = _check_tau("tau_m", tau_m)
        tau_s = _check_tau("tau_s", tau_s)
        for value in _numbers(threshold):
            check_positive("threshold", value)
        if reset_mechanism not in snn.Leaky.reset_dict:  # before snnTorch registers the instance
            raise ValueError(f"reset_mechanism must be one of {list(snn.Leaky.reset_dict)}, "
                             f"got {reset_mechanism!r}")
        super().__init__(
            1.0 - 1.0 / tau_m, threshold=threshold,
            spike_grad=spike_grad or atan(alpha=2.0), surrogate_disable=surrogate_disable,
            init_hidden=init_hidden, inhibition=inhibition, learn_beta=learn_beta,
            learn_threshold=learn_threshold, reset_mechanism=reset_mechanism,
            state_quant=state_quant, output=output, graded_spikes_factor=graded_spikes_factor,
            learn_graded_spikes_factor=learn_graded_spikes_factor, reset_delay=reset_delay,
        )
        self.register_buffer("tau_s", torch.as_tensor(tau_s))
        self.register_buffer("psp", torch.zeros(0), False)
        self.register_buffer("spk", torch.zeros(0), False)
        # plain attributes, not submodules: invisible to modules(), state_dict() and reset()
        object.__setattr__(self, "_registered_states",
                           (RegisteredState(self, "psp"), RegisteredState(self, "spk")))

    @property
    def tau_m(self) -> torch.Tensor:
        r"""Membrane time constant :math:`\tau_m = 1 / (1 - \beta)` (follows a learnt ``beta``)."""
        return 1.0 / (1.0 - self.beta.detach())

    def reset_psp(self) -> torch.Tensor:
        """Zero the PSP (keeping its shape) and return it, like ``reset_mem`` for the membrane."""
        self.psp = torch.zeros_like(self.psp)
        return self.psp

    def reset_mem(self) -> torch.Tensor:
        """Zero the membrane and the PSP (keeping their shapes); return the membrane."""
        self.reset_psp()
        self.spk = torch.zeros_like(self.spk)
        return super().reset_mem()

    def forward(self, input_: torch.Tensor, mem: torch.Tensor | None = None,
                psp: torch.Tensor | None = None):
        """One time step: membrane, spike and PSP; see the class docstring for what is returned."""
        if self.init_hidden and psp is not None:
            raise TypeError("`psp` should not be passed as an argument while `init_hidden=True`")
        for name, state in (("mem", mem), ("psp", psp)):
            if state is not None and state.numel() and state.shape != input_.shape:
                raise ValueError(f"{name} must have the shape of input_ {tuple(input_.shape)}, "
                                 f"got {tuple(state.shape)}")
        if psp is not None:
            self.psp = psp
        elif mem is not None and mem is not self.mem and self.psp.numel():
            warnings.warn("PSPLeaky got a `mem` that is not the membrane it returned last, but "
                          "no `psp`: it continues from the PSP it stored at its last step. Pass "
                          "both states, `spk, psp, mem = lif(x, mem, psp)`, or call "
                          "`lif.reset_mem()` to start a new sequence.", stacklevel=2)
        out = super().forward(input_, mem)
        spk = out[0] if isinstance(out, tuple) else out
        if self.psp.shape != spk.shape:
            self.psp = torch.zeros_like(spk)
        self.psp = psp_step(self.psp, spk, self.tau_s)
        self.spk = spk
        if self.init_hidden and not self.output:
            return self.psp
        return spk, self.psp, self.mem

    @classmethod
    def reset_hidden(cls) -> None:
        """Zero ``mem``, ``psp`` and ``spk`` of every live ``PSPLeaky`` (class-wide)."""
        for neuron in cls.instances:
            if isinstance(neuron, cls):
                neuron.reset_mem()

    @classmethod
    def detach_hidden(cls) -> None:
        """Detach ``mem``, ``psp`` and ``spk`` of every live ``PSPLeaky`` in place (TBPTT)."""
        for neuron in cls.instances:
            if isinstance(neuron, cls):
                for state in (neuron.mem, neuron.psp, neuron.spk):
                    state.detach_()

    def extra_repr(self) -> str:
        """The parameters of the neuron, shown by ``print(neuron)``."""
        return (f"tau_m={self.tau_m.tolist()}, tau_s={self.tau_s.item()}, "
                f"threshold={self.threshold.tolist()}, reset_mechanism={self.reset_mechanism!r}")
