r"""Cases of one neuron layer ``[T, B, N]``: forward + backward of ``spikes.sum()``.

Every neuron runs on four paths (where available):

* ``snntorch-loop``: snnTorch's tutorial loop, ``for t in range(T): spk, mem = lif(x[t], mem)``;
* ``per-step``: :class:`~snntorch_ext.SpikingSequential` stepping the neuron over
  ``x.unbind(0)`` (``backend="torch"`` where the backend can be chosen);
* ``fused``: :class:`~snntorch_ext.SpikingSequential` with its multi-step ``backend="fused"``;
* ``triton``: the same with ``backend="triton"`` (CUDA only).

Two references run beside them: SpikingJelly's multi-step ``LIFNode`` (when ``spikingjelly``
is installed; it picks its own CPU/CUDA implementation) and :class:`PlainLIF`, a naive
hand-written BPTT of the plain LIF neuron, the floor that every neuron is compared with.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import snntorch as snn
import torch
from torch import nn

from .. import surrogate
from ..neurons import BPSTALeaky, MSGLeaky, PSPLeaky
from ..sequential import SpikingSequential

__all__ = ["NEURONS", "PlainLIF", "available_backends", "layer_forward"]

BETA, THRESHOLD, ALPHA = 0.5, 1.0, 2.0  # snn.Leaky, SpikingJelly (tau = 2) and the floor

NEURONS: dict[str, Callable[..., nn.Module]] = {
    "snn.Leaky": lambda **kw: snn.Leaky(beta=BETA, threshold=THRESHOLD, reset_mechanism="zero",
                                        spike_grad=surrogate.atan(alpha=ALPHA), **kw),
    "BPSTALeaky baseline": lambda **kw: BPSTALeaky(spatial=False, temporal=False, **kw),
    "BPSTALeaky BPSA": lambda **kw: BPSTALeaky(spatial=True, temporal=False, **kw),
    "BPSTALeaky BPSA+BPTA": lambda **kw: BPSTALeaky(spatial=True, temporal=True, **kw),
    "MSGLeaky": lambda **kw: MSGLeaky(**kw),
    "PSPLeaky": lambda **kw: PSPLeaky(**kw),
}
SPIKINGJELLY = "SpikingJelly LIFNode"
FLOOR = "plain LIF, hand-written BPTT"


def available_backends() -> tuple[str, ...]:
    """The ``backend`` values that :class:`~snntorch_ext.SpikingSequential` accepts here.

    Empty where ``SpikingSequential`` has no ``backend`` argument (only the per-step path).

    Example::

        >>> from snntorch_ext.bench.layer import available_backends
        >>> isinstance(available_backends(), tuple)
        True
    """
    parameter = inspect.signature(SpikingSequential).parameters.get("backend")
    if parameter is None:
        return ()
    return ("torch", "fused", "triton")


class PlainLIF(torch.autograd.Function):
    r"""The floor: a plain LIF layer over all steps with a naive hand-written BPTT.

    .. math::

        u[t] = \beta\,\big(1 - o[t-1]\big)\,u[t-1] + x[t], \qquad
        o[t] = H\big(u[t] - \vartheta\big), \\
        \frac{\partial L}{\partial u[t]} = \frac{\partial L}{\partial o[t]}\,g'(u[t] - \vartheta)
            + \beta\,\big(1 - o[t]\big)\,\frac{\partial L}{\partial u[t+1]},

    with the reset detached (as ``snn.Leaky`` does) and :math:`g'` the arctangent surrogate
    :math:`\frac{\alpha/2}{1 + (\frac{\pi}{2}\alpha z)^2}`. Both directions are Python loops
    over :math:`T` of whole-layer tensor operations; only the membrane sequence is saved.

    Example::

        >>> import torch
        >>> from snntorch_ext.bench.layer import PlainLIF
        >>> x = torch.rand(4, 2, 3, requires_grad=True)
        >>> PlainLIF.apply(x, 0.5, 1.0, 2.0).sum().backward()
        >>> x.grad.shape
        torch.Size([4, 2, 3])

    Reference:
        Y. Wu, L. Deng, G. Li, J. Zhu, L. Shi. Spatio-temporal backpropagation for training
        high-performance spiking neural networks. Frontiers in Neuroscience 12:331, 2018.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, beta: float, threshold: float,  # noqa: D102
                alpha: float) -> torch.Tensor:
        mem = torch.zeros_like(x[0])
        mems, spikes = [], []
        for x_t in x.unbind(0):
            mem = beta * mem + x_t
            spk = (mem > threshold).to(x.dtype)
            mems.append(mem)
            spikes.append(spk)
            mem = mem * (1 - spk)
        ctx.save_for_backward(torch.stack(mems))
        ctx.constants = (beta, threshold, alpha)
        return torch.stack(spikes)

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor):  # noqa: D102
        (mems,) = ctx.saved_tensors
        beta, threshold, alpha = ctx.constants
        grads = []
        grad_next = torch.zeros_like(mems[0])
        for mem, grad_spk in zip(reversed(mems.unbind(0)), reversed(grad_spikes.unbind(0)),
                                 strict=True):
            z = mem - threshold
            slope = (alpha / 2) / (1 + (math.pi / 2 * alpha * z) ** 2)
            grad_next = grad_spk * slope + beta * (z <= 0).to(mem.dtype) * grad_next
            grads.append(grad_next)
        return torch.stack(grads[::-1]), None, None, None


def _passed_on(neuron_name: str) -> int:
    """Index of the per-step output that the next layer receives (PSPLeaky passes its PSP)."""
    return 1 if neuron_name == "PSPLeaky" else 0


def _snntorch_loop(neuron_name: str, device: torch.device) -> Callable:
    lif = NEURONS[neuron_name]().to(device)
    index = _passed_on(neuron_name)

    def forward(x: torch.Tensor) -> torch.Tensor:
        mem = lif.init_leaky()
        outputs = []
        for t in range(x.shape[0]):  # the tutorial's indexing, on purpose
            out = lif(x[t], mem)
            mem = out[-1]
            outputs.append(out[index])
        return torch.stack(outputs)

    return forward


def _sequential(neuron_name: str, path: str, device: torch.device) -> Callable:
    neuron = NEURONS[neuron_name](init_hidden=True)
    if path == "per-step":
        kwargs = {"backend": "torch"} if available_backends() else {}
    elif path in available_backends():
        kwargs = {"backend": path}
    else:
        raise NotImplementedError(f"SpikingSequential has no backend {path!r} here")
    return SpikingSequential(neuron, **kwargs).to(device)


def _spikingjelly(device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    try:
        from spikingjelly.activation_based import neuron as sj_neuron
        from spikingjelly.activation_based import surrogate as sj_surrogate
    except ImportError as err:
        raise NotImplementedError(f"spikingjelly is not installed ({err})") from None
    lif = sj_neuron.LIFNode(tau=1 / (1 - BETA), decay_input=False, v_threshold=THRESHOLD,
                            v_reset=0.0, surrogate_function=sj_surrogate.ATan(alpha=ALPHA),
                            detach_reset=True, step_mode="m").to(device)

    def forward(x: torch.Tensor) -> torch.Tensor:
        lif.reset()
        return lif(x)

    return forward


def layer_forward(neuron_name: str, path: str,
                  device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``[T, B, N] -> [T, B, N]`` function of one layer case.

    Raises ``NotImplementedError`` (with the reason) for a path that is not available here,
    ``ValueError`` for an unknown neuron or path.

    Example::

        >>> import torch
        >>> from snntorch_ext.bench.layer import layer_forward
        >>> f = layer_forward("snn.Leaky", "snntorch-loop", torch.device("cpu"))
        >>> f(torch.rand(3, 2, 5)).shape
        torch.Size([3, 2, 5])
    """
    if neuron_name == FLOOR:
        return lambda x: PlainLIF.apply(x, BETA, THRESHOLD, ALPHA)
    if neuron_name == SPIKINGJELLY:
        return _spikingjelly(device)
    if neuron_name not in NEURONS:
        raise ValueError(f"neuron must be one of {[*NEURONS, SPIKINGJELLY, FLOOR]}, "
                         f"got {neuron_name!r}")
    if path == "snntorch-loop":
        return _snntorch_loop(neuron_name, device)
    if path in ("per-step", "fused", "triton"):
        return _sequential(neuron_name, path, device)
    raise ValueError(f"path must be one of ['snntorch-loop', 'per-step', 'fused', 'triton'], "
                     f"got {path!r}")
