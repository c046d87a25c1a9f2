r"""Which neurons a multi-step kernel can run, and running one over a sequence.

:func:`plan` reads a neuron into parameter records (or says why it cannot);
:func:`run_neuron` runs it over ``[T, B, ...]`` and leaves the neuron's state (``mem``, and
``psp``/``spk`` of :class:`~snntorch_ext.PSPLeaky`) as ``T`` per-step calls would.

.. math:: \mathrm{run}(n, x) = \big(n(x[0]), \dots, n(x[T-1])\big)

Example::

    >>> import torch, snntorch as snn
    >>> from snntorch_ext.kernels import plan, run_neuron
    >>> lif = snn.Leaky(beta=0.9, init_hidden=True)
    >>> plan(lif)                      # snnTorch's own arctan closure: no spec
    'spike_grad inner has no kernel spec (only snntorch_ext.surrogate functions do)'
"""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

import snntorch as snn
import torch
from torch import nn

from ..neurons import BPSTALeaky, MSGLeaky, PSPLeaky
from ..surrogate import _bpsa_grad
from .function import LIFFunction, PSPFunction, recursions
from .spec import LIFParams, PSPParams, SurrogateSpec

__all__ = ["BACKENDS", "Plan", "backend_for", "plan", "run_neuron"]

BACKENDS = ("torch", "fused", "triton", "auto")
"""``"torch"``: per-step calls; ``"fused"``: :mod:`.function` with the torch recursions;
``"triton"``: the same with the Triton twins; ``"auto"``: the fastest that can run it."""

log = logging.getLogger(__name__)

_RESETS = {snn.Leaky._base_zero: "zero", snn.Leaky._base_sub: "subtract",
           snn.Leaky._base_int: "none"}
_TYPES = (snn.Leaky, BPSTALeaky, MSGLeaky, PSPLeaky)


class Plan(NamedTuple):
    r"""What a multi-step kernel needs: LIF parameters, surrogate, PSP filter (PSPLeaky only).

    .. math:: \mathrm{plan}(n) = (p, g', \tau_s)

    Example::

        >>> import snntorch_ext as snx
        >>> plan(snx.PSPLeaky()).pp.tau_s
        4.0
    """

    p: LIFParams
    sg: SurrogateSpec
    pp: PSPParams | None = None


def _reset(neuron: snn.Leaky) -> str | None:
    function = getattr(neuron.state_function, "__func__", None)
    if isinstance(neuron, BPSTALeaky) and neuron.temporal:
        return "zero" if function is BPSTALeaky._bpta_zero else None
    return _RESETS.get(function)


def _surrogate(neuron: snn.Leaky) -> SurrogateSpec | str:
    if neuron.surrogate_disable:
        return "surrogate_disable=True (spikes without gradient)"
    if isinstance(neuron, BPSTALeaky) and neuron.spatial:
        threshold = neuron.threshold.detach()
        return SurrogateSpec("bpsa", threshold, lambda z: _bpsa_grad(z, threshold))
    spec = getattr(neuron.spike_grad, "spec", None)
    sg = spec() if callable(spec) else None
    if not isinstance(sg, SurrogateSpec):
        name = getattr(neuron.spike_grad, "__name__", type(neuron.spike_grad).__name__)
        return f"spike_grad {name} has no kernel spec (only snntorch_ext.surrogate functions do)"
    if isinstance(neuron, BPSTALeaky) and neuron.temporal and sg.p:
        return "a masked spike_grad with BPTA (temporal=True) draws two masks per step"
    return sg


def plan(neuron: nn.Module) -> Plan | str:
    """The kernel parameters of ``neuron``, or why no multi-step kernel can run it.

    Eligible: ``snn.Leaky``, :class:`~snntorch_ext.BPSTALeaky`, :class:`~snntorch_ext.MSGLeaky`
    and :class:`~snntorch_ext.PSPLeaky` themselves (not subclasses), with a surrogate of
    :mod:`snntorch_ext.surrogate` (masked included), scalar ``beta``/``threshold``/
    ``graded_spikes_factor`` that learn nothing, the delayed reset, no ``inhibition``, no
    ``state_quant``, no pre-hooks, and only forward hooks that take a whole sequence (a
    ``sequence`` attribute, as :class:`~snntorch_ext.metrics.FiringRates` has).

    Example::

        >>> import snntorch_ext as snx
        >>> round(plan(snx.BPSTALeaky()).p.alpha, 6)
        0.8
    """
    if type(neuron) not in _TYPES:
        return f"{type(neuron).__name__} has no multi-step kernel"
    scalars = {"beta": neuron.beta, "threshold": neuron.threshold,
               "graded_spikes_factor": neuron.graded_spikes_factor}
    reasons = [f"{name} learns (its gradient is computed per step only)"
               for name, value in scalars.items()
               if isinstance(value, torch.Tensor) and value.requires_grad]
    reasons += [f"{name} is not a scalar" for name, value in scalars.items()
                if isinstance(value, torch.Tensor) and value.numel() != 1]
    reasons += [text for text, bad in (
        ("inhibition=True", neuron.inhibition), ("state_quant is set", bool(neuron.state_quant)),
        ("reset_delay=False", not neuron.reset_delay),
        ("it has forward pre-hooks", bool(neuron._forward_pre_hooks)),
        ("it has per-step forward hooks",
         any(not hasattr(hook, "sequence") for hook in neuron._forward_hooks.values())),
        ("its state_function is not snnTorch's", _reset(neuron) is None)) if bad]
    sg = _surrogate(neuron)
    if isinstance(sg, str):
        reasons.append(sg)
    if reasons:
        return "; ".join(reasons)
    beta = neuron.beta.detach().clamp(0, 1)
    gain = 1 - beta if isinstance(neuron, MSGLeaky) else 1.0
    alpha = neuron.alpha if isinstance(neuron, BPSTALeaky) and neuron.temporal else 0.0
    p = LIFParams(beta, neuron.threshold.detach(), _reset(neuron), gain,
                  neuron.graded_spikes_factor, alpha)
    pp = PSPParams(1.0 - 1.0 / neuron.tau_s, neuron.tau_s) if isinstance(neuron, PSPLeaky) else None
    if torch.compiler.is_compiling():  # keep 0-dim tensors: no specialisation on their values
        return Plan(p, sg, pp)
    return Plan(_floats(p), _floats(sg), None if pp is None else _floats(pp))


def _triton_reason(x: torch.Tensor, kernel_plan: Plan) -> str | None:
    if not x.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        return f"the input is on {x.device}, Triton runs on CUDA (or TRITON_INTERPRET=1)"
    try:
        lif = recursions("triton", "lif")
    except ImportError as error:
        return f"snntorch_ext.kernels.triton is not available ({error})"
    unsupported = getattr(lif, "unsupported", None)
    return unsupported(x, kernel_plan) if unsupported is not None else None


def backend_for(neuron: nn.Module, x: torch.Tensor, backend: str) -> tuple[str, Plan | None]:
    """The backend that runs ``neuron`` on ``x`` (``"torch"``, ``"fused"`` or ``"triton"``) and
    its plan; an explicit backend that cannot run it is a ValueError with the reason, ``"auto"``
    falls back (logged at debug level).

    Example::

        >>> import torch, snntorch_ext as snx
        >>> backend_for(snx.MSGLeaky(), torch.ones(2, 3), "auto")[0]
        'fused'
    """
    if backend == "torch":
        return "torch", None
    kernel_plan = plan(neuron)
    if isinstance(kernel_plan, str):
        if backend == "auto":
            _debug("%s runs per step: %s", type(neuron).__name__, kernel_plan)
            return "torch", None
        raise ValueError(f"backend={backend!r} cannot run {type(neuron).__name__}: {kernel_plan}")
    if backend == "fused" or (backend == "auto" and not x.is_cuda):  # no interpreter for "auto"
        return "fused", kernel_plan
    reason = _triton_reason(x, kernel_plan)
    if reason is None:
        return "triton", kernel_plan
    if backend == "triton":
        raise ValueError(f"backend='triton' cannot run {type(neuron).__name__}: {reason}")
    _debug("%s runs on the torch recursion: %s", type(neuron).__name__, reason)
    return "fused", kernel_plan


def _debug(message: str, *args: str) -> None:
    """Log at debug level, except while ``torch.compile`` traces (a log call would break the
    graph there)."""
    if not torch.compiler.is_compiling():
        log.debug(message, *args)


def _floats(record: NamedTuple) -> NamedTuple:
    """The record with python floats for its 0-dim tensors (exact: float32 values are doubles)."""
    return record._replace(**{k: v.item() for k, v in record._asdict().items()
                              if isinstance(v, torch.Tensor)})


def _state(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if value.shape != like.shape:
        return torch.zeros_like(like)
    return value.to(like.dtype)


def run_neuron(neuron: nn.Module, x: torch.Tensor, backend: str, kernel_plan: Plan
               ) -> torch.Tensor:
    """Run an eligible ``neuron`` over ``x`` ``[T, B, ...]`` with ``backend`` ("fused" or
    "triton"); return what it passes on at every step (spikes, or the PSP of a
    :class:`~snntorch_ext.PSPLeaky` with ``init_hidden=True, output=False``), ``[T, B, ...]``.

    The state is left as ``T`` per-step calls leave it: ``mem`` (and ``psp``, ``spk``) of the
    last step, connected to the graph. Hooks with a ``sequence`` attribute get
    ``hook.sequence(neuron, spikes)`` once.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> lif = snx.BPSTALeaky(init_hidden=True)
        >>> run_neuron(lif, torch.ones(4, 2, 3), "fused", plan(lif)).shape
        torch.Size([4, 2, 3])
    """
    p, sg, pp = kernel_plan
    name = "torch" if backend == "fused" else "triton"
    if name == "triton":  # python floats (no-ops unless traced by torch.compile)
        p, sg, pp = _floats(p), _floats(sg), None if pp is None else _floats(pp)
    mem0 = _state(neuron.mem, x[0])
    if pp is None:
        spk, mem = LIFFunction.apply(x, mem0, p, sg, name)
        out = spk
    else:
        fresh = neuron.mem is getattr(neuron, "_mem_out", neuron.mem)
        psp0 = _state(neuron.psp if fresh else torch.zeros(0), x[0])
        spk, psp, mem = PSPFunction.apply(x, mem0, psp0, p, pp, sg, name)
        neuron.psp, neuron.spk = psp[-1].clone(), spk[-1].clone()
        out = psp if neuron.init_hidden and not neuron.output else spk
    neuron.mem = mem[-1].clone()
    if pp is not None:
        neuron._mem_out = neuron.mem
    for hook in neuron._forward_hooks.values():
        hook.sequence(neuron, spk)
    return out
