r"""Accumulated spiking flow (ASF): train an SNN through spike counts, with no loop over time.

The network is simulated for :math:`T` steps without an autograd graph; every spiking layer
:math:`n` records its summed input current and its spike count,

.. math::

    \mathcal{FI}^n = \sum_{t=1}^{T} I^n(t), \qquad \mathcal{FO}^n = \sum_{t=1}^{T} s^n(t),

and the gradient is computed once, on the *equivalent network* that maps counts to counts,
:math:`\mathcal{FI}^{n+1} = W^{n+1} \mathcal{FO}^n`, with the derivative
:math:`\partial \mathcal{FO}^n / \partial \mathcal{FI}^n
= \mathcal{S}^n\,\mathbb{1}[\mathcal{FI}^n > 0]`.
Backward therefore costs about one time step, whatever :math:`T` is, and the tensors it keeps do
not grow with :math:`T`.

Example::

    import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx

    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 100, bias=False),
                        snn.Leaky(beta=1.0, reset_mechanism="zero", init_hidden=True),
                        nn.Linear(100, 10, bias=False))
    model = snx.ASF(net, num_steps=100)
    x = snx.functional.signed_poisson(torch.rand(8, 1, 28, 28), num_steps=100)
    loss = snx.functional.asf_mse_loss()(model(x), torch.randint(0, 10, (8,)))
    loss.backward()

Reference:
    H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
    neural networks with accumulated spiking flow. AAAI 2021.
"""

from __future__ import annotations

import snntorch as snn
import torch
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

from ._checks import STEP_RANK as _RANK
from ._checks import check_finite, check_in_range, check_positive, check_positive_int, step_rank
from .neurons.psp import PSPLeaky
from .utils import reset

__all__ = ["ASF", "BPTT", "flow_ratio"]

RATIO_GUARD = 1e-3
"""Below this summed input current a layer's batch ratio is taken to be 1."""

_SYNAPTIC = (*_RANK, nn.BatchNorm1d, nn.Flatten, nn.Identity)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def flow_ratio(fi: torch.Tensor, fo: torch.Tensor) -> torch.Tensor:
    r"""One layer's batch ratio :math:`\mathcal{S}_{\mathrm{batch}}` of spike count to input.

    .. math::

        \mathcal{S}_{\mathrm{batch}} =
        \begin{cases}
        \dfrac{\sum_{i \in A} \mathcal{FO}_i}{\sum_{i \in A} \mathcal{FI}_i}
            & \text{if } \sum_{i \in A} \mathcal{FI}_i \ge 10^{-3} \\
        1 & \text{otherwise}
        \end{cases}
        \qquad A = \{\, i : \mathcal{FI}_i \ge \mathcal{FO}_i \,\}

    The sums run over every unit of the layer and every sample of the batch; units whose input
    fell short of their spike count (in particular every unit with negative summed input) are
    left out (our choice, see :ref:`design-asf`).

    Args:
        fi: summed input current :math:`\mathcal{FI}` of the layer, any shape.
        fo: spike count :math:`\mathcal{FO}`, same shape.

    Returns:
        A 0-dim tensor in the dtype of ``fi``.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.asf.flow_ratio(torch.tensor([4.0, 2.0, -1.0]), torch.tensor([2.0, 1.0, 0.0]))
        tensor(0.5000)

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021.
    """
    total_in, total_out = _flow_sums(fi, fo)
    return _ratio(total_in, total_out)


def _flow_sums(fi: torch.Tensor, fo: torch.Tensor) -> torch.Tensor:
    """``[sum_A FI, sum_A FO]`` of one layer, the two sums of :func:`flow_ratio`."""
    kept = (fi >= fo).to(fi.dtype)
    return torch.stack([(fi * kept).sum(), (fo * kept).sum()])


def _ratio(total_in: torch.Tensor, total_out: torch.Tensor) -> torch.Tensor:
    return torch.where(total_in < RATIO_GUARD, torch.ones_like(total_in),
                       total_out / total_in.clamp_min(RATIO_GUARD))


def _batch_ratios(flows: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """Every layer's batch ratio; with several processes (DistributedDataParallel) the sums
    run over the batches of all of them, so every process updates the same ratios."""
    sums = torch.stack([_flow_sums(fi, fo) for fi, fo in flows])
    if torch.distributed.is_available() and torch.distributed.is_initialized() \
            and torch.distributed.get_world_size() > 1:
        torch.distributed.all_reduce(sums)
    return _ratio(sums[:, 0], sums[:, 1])


class _FlowNode(torch.autograd.Function):
    """A neuron of the equivalent network: value ``rate_out``, derivative ``ratio * active``."""

    @staticmethod
    def forward(ctx, rate_in: torch.Tensor, rate_out: torch.Tensor, active: torch.Tensor,
                ratio: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(active, ratio)
        return rate_out.clone()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        active, ratio = ctx.saved_tensors
        return grad_output * ratio * active, None, None, None


def _first(output: torch.Tensor | tuple) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


class ASF(nn.Module):
    r"""Train a spiking ``nn.Sequential`` with accumulated spiking flow (Wu et al., AAAI 2021).

    **Forward.** ``net`` is simulated for :math:`T` = ``num_steps`` steps under
    ``torch.no_grad()``, one step at a time (so memory does not grow with :math:`T` either;
    a plain ``snn.Leaky`` without hooks is stepped by a fused update that gives bitwise the
    spikes and membrane of its own ``forward``, other neurons are called).
    Every neuron :math:`n` records :math:`\mathcal{FI}^n = \sum_t I^n(t)` and
    :math:`\mathcal{FO}^n = \sum_t s^n(t)`; the output layer does not spike, its input current
    accumulates into :math:`V^N(T) = \sum_t I^N(t)`, and the returned output is

    .. math:: y = \frac{V^N(T)}{T \cdot V_{\mathrm{th}}} \qquad [B, C].

    **Ratios.** Each neuron layer has one ratio :math:`\mathcal{S}^n` (the buffer ``ratios``,
    saved in ``state_dict``, starting at 1). In training mode every forward first updates it
    from the batch, :math:`\mathcal{S}^n \leftarrow (1 - m)\,\mathcal{S}^n + m\,
    \mathcal{S}^n_{\mathrm{batch}}` with :math:`m` = ``ratio_momentum`` and
    :math:`\mathcal{S}^n_{\mathrm{batch}}` from :func:`~snntorch_ext.asf.flow_ratio`; eval mode
    leaves it alone. Under DistributedDataParallel (a ``torch.distributed`` process group of
    several processes) the two sums of :func:`~snntorch_ext.asf.flow_ratio` run over the batches
    of all processes (an all-reduce in every training forward), so every process holds the
    ratios of the global batch.

    **Backward** has no loop over time. ``y`` is the output of the *equivalent network*: the
    same synaptic modules applied once to spike counts (as rates :math:`\mathcal{FO}/T`, which
    scales a bias :math:`b` correctly: :math:`\mathcal{FI} = W \mathcal{FO} + T b`), where each
    neuron is a node whose value is its recorded :math:`\mathcal{FO}^n` and whose derivative is

    .. math::

        \frac{\partial \mathcal{FO}^n}{\partial \mathcal{FI}^n}
        = \mathcal{S}^n \, \mathbb{1}\!\left[\mathcal{FI}^n > 0\right],
        \qquad
        \frac{\partial L}{\partial W^n}
        = \frac{\partial L}{\partial \mathcal{FI}^n}\, \big(\mathcal{FO}^{n-1}\big)^{\!\top}.

    The input counts :math:`\mathcal{FO}^0 = \sum_t x(t)` feed the first layer. What backward
    keeps is one count tensor per layer, never a time axis.

    Choices where the paper is silent (ours, see :ref:`design-asf`): ``MaxPool`` runs on the
    counts in the equivalent network, as the reference code does (the simulation itself pools
    every step); that routes the gradient to the unit with the most spikes, an approximation.
    The value of ``y`` is always the simulated :math:`V^N(T)`, exactly, even where such an
    approximation makes the equivalent network's value differ. Neuron parameters (``learn_beta``,
    ``learn_threshold``) get no gradient from this rule, so neurons with parameters are refused.

    Args:
        net: an ``nn.Sequential`` of synaptic modules (``Linear``, ``Conv1d/2d/3d``, average,
            adaptive-average and max pooling, ``Flatten``, ``Identity``, ``BatchNorm`` in eval
            mode only) and snnTorch neurons that subclass ``snn.Leaky`` (``beta = 1`` is IF,
            ``beta < 1`` LIF; ``beta`` and ``threshold`` may be one number or one per neuron)
            built with ``init_hidden=True``, whose output is their spikes (not
            :class:`~snntorch_ext.PSPLeaky`, which passes on its PSP). Its last module must be
            synaptic.
        num_steps: :math:`T`, the number of simulated steps.
        output_threshold: :math:`V_{\mathrm{th}}` of the output layer, only a scale of ``y``.
        ratio_momentum: :math:`m \in [0, 1]` of the ratio update.

    Raises:
        ValueError: for a module it cannot run on counts (the message names it and its index),
            a trailing neuron, bad arguments, and at ``forward`` for a wrong input shape, a
            time axis different from ``num_steps``, NaN input, or BatchNorm in training mode.

    Example::

        >>> import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx
        >>> net = nn.Sequential(nn.Linear(4, 3, bias=False),
        ...                     snn.Leaky(beta=1.0, init_hidden=True), nn.Linear(3, 2, bias=False))
        >>> model = snx.ASF(net, num_steps=8)
        >>> model(torch.ones(8, 5, 4)).shape       # [T, B, ...] in, [B, C] out
        torch.Size([5, 2])
        >>> model.ratios.shape                      # one ratio per neuron layer
        torch.Size([1])

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021.
    """

    ratios: torch.Tensor

    def __init__(self, net: nn.Sequential, num_steps: int, output_threshold: float = 1.0,
                 ratio_momentum: float = 0.6) -> None:
        super().__init__()
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.output_threshold = check_positive("output_threshold", output_threshold)
        self.ratio_momentum = check_in_range("ratio_momentum", ratio_momentum, 0.0, 1.0,
                                             closed_high=True)
        self.net = _check_network(net)
        count = sum(isinstance(m, SpikingNeuron) for m in net)
        self.register_buffer("ratios", torch.ones(count))
        self._rank = step_rank(net)

    def extra_repr(self) -> str:
        return (f"num_steps={self.num_steps}, output_threshold={self.output_threshold}, "
                f"ratio_momentum={self.ratio_momentum}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102 (documented above)
        x = self._time_major(x)
        counts = check_finite("x", x.sum(0))  # NaN and infinity survive the sum; no [T, ...] mask
        if self.training:
            for index, module in enumerate(self.net):
                if isinstance(module, _BATCHNORM) and module.training:
                    raise ValueError(
                        f"net[{index}] ({type(module).__name__}) is in training mode: ASF cannot "
                        "run batch statistics on counts; call .eval() on it or fold it into the "
                        "preceding layer"
                    )
        with torch.no_grad():
            flows, potential = self._simulate(x)
            if self.training and flows:
                batch = _batch_ratios(flows).to(self.ratios)
                self.ratios.mul_(1 - self.ratio_momentum).add_(self.ratio_momentum * batch)
        scale = self.num_steps * self.output_threshold
        if not torch.is_grad_enabled():
            return potential / scale
        out = self._equivalent(counts / self.num_steps, flows) / self.output_threshold
        return out + (potential / scale - out).detach()

    def _time_major(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"x must be a tensor [T, B, ...] or [B, ...], got {type(x).__name__}")
        if self._rank is not None and x.dim() == self._rank:
            return x.unsqueeze(0).expand(self.num_steps, *x.shape)
        if self._rank is not None and x.dim() != self._rank + 1:
            raise ValueError(
                f"x must be [T, B, ...] with {self._rank + 1} dims or [B, ...] with {self._rank} "
                f"dims for {type(self.net[0]).__name__} first, got shape {tuple(x.shape)}"
            )
        if x.dim() < 2 or x.shape[0] != self.num_steps:
            raise ValueError(
                f"x must be time-major [T={self.num_steps}, B, ...] (num_steps={self.num_steps}), "
                f"got shape {tuple(x.shape)}"
            )
        return x

    def _simulate(self, x: torch.Tensor) -> tuple[list[tuple[torch.Tensor, torch.Tensor]],
                                                  torch.Tensor]:
        """Run ``net`` step by step; return ``[(FI, FO)]`` per neuron and ``V = sum_t I_N(t)``."""
        reset(self.net)
        layers = [_FusedLeaky(m) if _fusable(m) else _Called(m) if isinstance(m, SpikingNeuron)
                  else m for m in self.net]
        steps = x.unbind(0)
        totals = [t.clone() for t in _step(layers, steps[0])]
        for h in steps[1:]:
            for total, value in zip(totals, _step(layers, h), strict=True):
                total.add_(value)
        for layer in layers:
            if isinstance(layer, _FusedLeaky):
                layer.module.mem = layer.mem
        count = len(self.ratios)
        flows = list(zip(totals[:count], totals[count:-1], strict=True))
        return flows, totals[-1]

    def _equivalent(self, rate: torch.Tensor, flows: list[tuple[torch.Tensor, torch.Tensor]]
                    ) -> torch.Tensor:
        """The equivalent network on rates ``counts / T``, one pass, differentiable."""
        ratios = self.ratios.detach().to(rate.dtype, copy=True)
        layer = 0
        for module in self.net:
            if isinstance(module, SpikingNeuron):
                fi, fo = flows[layer]
                rate = _FlowNode.apply(rate, fo / self.num_steps, fi > 0, ratios[layer])
                layer += 1
            else:
                rate = module(rate)
        return rate


def _step(layers: list, h: torch.Tensor) -> list[torch.Tensor]:
    """One time step: every neuron's input current, then every neuron's spikes, then the output
    current."""
    currents, spikes = [], []
    for layer in layers:
        if isinstance(layer, (_FusedLeaky, _Called)):
            currents.append(h)
            h = layer(h)
            spikes.append(h)
        else:
            h = layer(h)
    return [*currents, *spikes, h]


class _Called:
    """A neuron stepped by calling it (any ``snn.Leaky`` subclass); spikes in the input's dtype."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def __call__(self, current: torch.Tensor) -> torch.Tensor:
        return _first(self.module(current)).to(current.dtype)


_RESETS = {snn.Leaky._base_sub: "subtract", snn.Leaky._base_zero: "zero",
           snn.Leaky._base_int: "none"}


def _fusable(module: nn.Module) -> bool:
    """A plain ``snn.Leaky`` that :class:`_FusedLeaky` steps exactly as its own forward does."""
    return (type(module) is snn.Leaky and not module.inhibition and not module.state_quant
            and module.reset_delay and not module._forward_hooks
            and not module._forward_pre_hooks
            and getattr(module.state_function, "__func__", None) in _RESETS)


class _FusedLeaky:
    r"""``snn.Leaky.forward`` without autograd in fewer passes over memory, bitwise equal to it.

    Every snnTorch surrogate fires :math:`H(u - \vartheta) = \mathbb{1}[u > \vartheta]` in
    forward, so the no-grad simulation needs none of their machinery (a ``.float()`` copy, a
    clone and a subtraction for the reset and again for the spike). Used for plain ``snn.Leaky``
    neurons without hooks (hooks, e.g. of :class:`~snntorch_ext.metrics.FiringRates`, need
    the module to be called).
    """

    def __init__(self, module: snn.Leaky) -> None:
        self.module = module
        self.reset = _RESETS[module.state_function.__func__]
        self.beta = module.beta.clamp(0, 1)
        self.mem: torch.Tensor | None = None
        self.fired: torch.Tensor | None = None  # H(mem - threshold) of the previous step

    def __call__(self, current: torch.Tensor) -> torch.Tensor:
        module = self.module
        threshold = module.threshold
        if self.mem is None:
            self.mem = torch.zeros_like(current)
            self.fired = torch.gt(self.mem, threshold, out=torch.empty_like(current))
        mem = self.mem
        if self.reset == "zero":
            mem.addcmul_(mem, self.fired, value=-1.0)        # (1 - reset) * mem
        if bool((self.beta != 1).any()):                    # a number or one per neuron
            mem.mul_(self.beta)
        mem.add_(current)
        if self.reset == "subtract":
            if threshold.numel() == 1:
                mem.add_(self.fired, alpha=-float(threshold))  # - reset * threshold
            else:
                mem.sub_(self.fired * threshold)
        self.fired = torch.gt(mem, threshold, out=torch.empty_like(mem))
        if bool((module.graded_spikes_factor != 1).any()):
            return self.fired * module.graded_spikes_factor
        return self.fired


def _check_network(net: nn.Module) -> nn.Sequential:
    if not isinstance(net, nn.Sequential):
        raise ValueError(f"net must be an nn.Sequential, got {type(net).__name__}")
    if len(net) == 0:
        raise ValueError("net must hold at least one synaptic layer, got an empty nn.Sequential")
    for index, module in enumerate(net):
        name = f"net[{index}] ({type(module).__name__})"
        if isinstance(module, SpikingNeuron):
            if not isinstance(module, snn.Leaky):
                raise ValueError(f"{name}: ASF runs snn.Leaky and its subclasses only")
            if isinstance(module, PSPLeaky):
                raise ValueError(
                    f"{name} passes its postsynaptic potential to the next layer, not spikes: "
                    "ASF needs neurons whose output is their spikes (the next layer's input "
                    "is counted as a spike count); use snn.Leaky(beta=1 - 1/tau_m, "
                    "reset_mechanism='zero') for the same membrane"
                )
            if not module.init_hidden:
                raise ValueError(f"{name} must be built with init_hidden=True")
            learnable = [n for n, _ in module.named_parameters()]
            if learnable:
                raise ValueError(
                    f"{name} has learnable {learnable}: ASF gives neuron parameters no gradient; "
                    "build it with learn_beta=False and learn_threshold=False"
                )
        elif type(module) not in _SYNAPTIC:
            raise ValueError(
                f"{name} cannot run on spike counts; ASF accepts snn.Leaky neurons and "
                f"{', '.join(sorted(m.__name__ for m in _SYNAPTIC))}"
            )
    if isinstance(net[-1], SpikingNeuron):
        raise ValueError(
            f"net[{len(net) - 1}] ({type(net[-1]).__name__}) is a neuron: the last module must be "
            "synaptic (the output layer accumulates its current and does not spike)"
        )
    return net


class BPTT(nn.Module):
    r"""ASF's network and output trained by backpropagation through time: ASF's baseline.

    ``net`` runs over all :math:`T` steps in a
    :class:`~snntorch_ext.SpikingSequential`, so autograd goes through every step and every
    neuron's ``spike_grad`` surrogate. The output is the same as :class:`ASF`'s,

    .. math:: y = \frac{1}{T \cdot V_{\mathrm{th}}} \sum_{t=1}^{T} I^N(t) \qquad [B, C],

    so both minimise the same loss (:class:`~snntorch_ext.functional.asf_mse_loss`) and only
    the gradient differs. The paper compares ASF with BPTT-trained networks (Fig. 3: STBP,
    Wu et al. 2018); this class is our construction of that comparison on ASF's own network
    (see :ref:`design-asf`).

    Args:
        net: the network, as for :class:`ASF`.
        num_steps: :math:`T`.
        output_threshold: :math:`V_{\mathrm{th}}` of the output layer.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> from snntorch_ext.asf import BPTT
        >>> model = BPTT(snx.models.asf_lenet(), num_steps=4)
        >>> model(torch.rand(4, 2, 1, 28, 28)).shape
        torch.Size([2, 10])

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021.
    """

    def __init__(self, net: nn.Sequential, num_steps: int, output_threshold: float = 1.0
                 ) -> None:
        from .sequential import SpikingSequential

        super().__init__()
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.output_threshold = check_positive("output_threshold", output_threshold)
        self.net = SpikingSequential(*_check_network(net))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102 (documented above)
        if not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[0] != self.num_steps:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be time-major [T={self.num_steps}, B, ...], got {shape}")
        return self.net(x).sum(0) / (self.num_steps * self.output_threshold)
