r"""The multi-step neurons as ``torch.autograd.Function``: one node for the whole sequence.

The forward and backward recursions come from :mod:`.lif`/:mod:`.psp` (``backend="torch"``) or
from their Triton twins (``backend="triton"``); these classes only save what the backward needs
(the membrane sequence, one float per neuron per step; the spikes are recomputed from it) and
draw MSG's masks.

Example::

    >>> import torch
    >>> from snntorch_ext.kernels.function import LIFFunction
    >>> from snntorch_ext.kernels.spec import LIFParams, SurrogateSpec
    >>> sg = SurrogateSpec("atan", 2.0, lambda z: 1 / (1 + (torch.pi * z) ** 2))
    >>> x = torch.ones(4, 3, requires_grad=True)
    >>> spk, mem = LIFFunction.apply(x, torch.zeros(3), LIFParams(0.9, 1.5, "zero"), sg, "torch")
    >>> spk.sum().backward()
"""

from __future__ import annotations

import importlib
from types import ModuleType

import torch

from ..surrogate import _keep_steps
from . import lif, psp
from .spec import LIFParams, PSPParams, SurrogateSpec

__all__ = ["LIFFunction", "PSPFunction", "draw_keep", "recursions"]


_LOADED: dict[tuple[str, str], ModuleType] = {("torch", "lif"): lif, ("torch", "psp"): psp}


def recursions(backend: str, rule: str) -> ModuleType:
    """The module holding ``<rule>_forward``/``<rule>_backward`` for ``backend`` ("torch" or
    "triton"); ``rule`` is ``"lif"`` or ``"psp"``. Imported once, then looked up (so that
    ``torch.compile`` traces a dictionary lookup, not an import)."""
    key = (backend, rule)
    if key not in _LOADED:
        package = __package__ if backend == "torch" else f"{__package__}.triton"
        _LOADED[key] = importlib.import_module(f"{package}.{rule}")
    return _LOADED[key]


def draw_keep(mem: torch.Tensor, sg: SurrogateSpec, dtype: torch.dtype = torch.bool
              ) -> torch.Tensor | None:
    r"""MSG's masks for a whole sequence, ``[T, ...]`` 0/1 in ``dtype``, or None without MSG.

    The values the per-step path draws from ``sg.generator`` during its backward pass (step by
    step, from the last step to the first), so the same generator state gives the same masks on
    both paths; on the CPU all steps come from one draw. Laid out like ``mem``.
    :math:`M[t] \sim \mathrm{Bernoulli}(1 - p)`.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import SurrogateSpec
        >>> sg = SurrogateSpec("atan", 2.0, torch.ones_like, p=0.5,
        ...                    generator=torch.Generator().manual_seed(0))
        >>> draw_keep(torch.zeros(4, 3), sg).shape
        torch.Size([4, 3])
    """
    if sg.p == 0.0:
        return None
    return _keep_steps(mem, sg.p, sg.generator, dtype)


class LIFFunction(torch.autograd.Function):
    r"""``(spk, mem) = LIFFunction.apply(x, mem0, p, sg, backend)`` over ``x`` ``[T, ...]``.

    Forward: :func:`snntorch_ext.kernels.lif.lif_forward`; backward:
    :func:`snntorch_ext.kernels.lif.lif_backward`. Saves ``mem`` ``[T, ...]`` and ``mem0``.

    .. math:: o[t] = H(u[t] - \vartheta), \qquad
              \epsilon[t] = \partial L / \partial u[t] \text{ by the recursion}

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams, SurrogateSpec
        >>> sg = SurrogateSpec("rectangular", 1.0, lambda z: (z.abs() < 0.5).to(z.dtype))
        >>> x = torch.ones(3, 2, requires_grad=True)
        >>> spk, mem = LIFFunction.apply(x, torch.zeros(2), LIFParams(0.5, 1.2, "zero"), sg,
        ...                              "torch")
        >>> spk[:, 0]
        tensor([0., 1., 0.], grad_fn=<SelectBackward0>)
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, mem0: torch.Tensor, p: LIFParams, sg: SurrogateSpec,
                backend: str) -> tuple[torch.Tensor, torch.Tensor]:
        spk, mem = recursions(backend, "lif").lif_forward(x, mem0, p)
        ctx.save_for_backward(mem, mem0)
        ctx.set_materialize_grads(False)  # an unused output gets None, not a [T, ...] of zeros
        ctx.p, ctx.sg, ctx.backend = p, sg, backend
        return spk, mem

    @staticmethod
    def backward(ctx, grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None):
        mem, mem0 = ctx.saved_tensors
        keep = draw_keep(mem, ctx.sg)
        grad_x, grad_mem0 = recursions(ctx.backend, "lif").lif_backward(
            grad_spk, grad_mem, mem, mem0, ctx.p, ctx.sg, keep)
        return grad_x, grad_mem0, None, None, None


class PSPFunction(torch.autograd.Function):
    r"""``(spk, psp, mem) = PSPFunction.apply(x, mem0, psp0, p, pp, sg, backend)``.

    :func:`~snntorch_ext.kernels.psp.lif_psp_forward` and
    :func:`~snntorch_ext.kernels.psp.lif_psp_backward` (the PSP's error recursion and the
    LIF's in one pass). Saves ``mem`` ``[T, ...]`` and ``mem0``.

    .. math:: \frac{\partial L}{\partial o[t]} = \sigma[t] + \hat\delta[t] / \tau_s

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams, PSPParams, SurrogateSpec
        >>> sg = SurrogateSpec("rectangular", 1.0, lambda z: (z.abs() < 0.5).to(z.dtype))
        >>> spk, psp, mem = PSPFunction.apply(
        ...     torch.ones(2, 1), torch.zeros(1), torch.zeros(1), LIFParams(0.5, 0.8, "zero"),
        ...     PSPParams(0.5, 2.0), sg, "torch")
        >>> psp[:, 0]
        tensor([0.5000, 0.7500])
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, mem0: torch.Tensor, psp0: torch.Tensor, p: LIFParams,
                pp: PSPParams, sg: SurrogateSpec, backend: str
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        spk, psp, mem = recursions(backend, "psp").lif_psp_forward(x, mem0, psp0, p, pp)
        ctx.save_for_backward(mem, mem0)
        ctx.set_materialize_grads(False)
        ctx.p, ctx.pp, ctx.sg, ctx.backend = p, pp, sg, backend
        return spk, psp, mem

    @staticmethod
    def backward(ctx, grad_spk: torch.Tensor | None, grad_psp: torch.Tensor | None,
                 grad_mem: torch.Tensor | None):
        mem, mem0 = ctx.saved_tensors
        grad_x, grad_mem0, grad_psp0 = recursions(ctx.backend, "psp").lif_psp_backward(
            grad_spk, grad_psp, grad_mem, mem, mem0, ctx.p, ctx.pp, ctx.sg,
            draw_keep(mem, ctx.sg))
        return grad_x, grad_mem0, grad_psp0, None, None, None, None
