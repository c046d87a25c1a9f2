r"""Triton twin of :mod:`snntorch_ext.kernels.psp`: the postsynaptic-potential filter of
:class:`~snntorch_ext.PSPLeaky`, forward and backward in one kernel each.

The spikes of the LIF kernels (:mod:`snntorch_ext.kernels.triton.lif`) are filtered into the
postsynaptic potential that the next layer receives (pseudo-code line 7 of the paper):

.. math:: a[t] = d\, a[t-1] + \frac{o[t]}{\tau_s}, \qquad d = 1 - \frac{1}{\tau_s},
          \qquad a[-1] = \mathrm{psp0}.

Backward, the paper's PSP iteration factor :math:`\hat\delta[t] = \partial L/\partial a[t]`:

.. math::

    \hat\delta[t] = \frac{\partial L}{\partial a[t]}\Big|_{\mathrm{direct}} + d\,\hat\delta[t+1],
    \qquad \frac{\partial L}{\partial o[t]} = \frac{\hat\delta[t]}{\tau_s}, \qquad
    \frac{\partial L}{\partial a[-1]} = d\,\hat\delta[0].

One program owns ``BLOCK`` neurons and loops over all steps inside; the filter state is rounded
to the dtype of the spikes at every step, as the torch path holds it.

:func:`psp_forward`/:func:`psp_backward` filter spikes that the LIF kernels wrote to memory
(the same arguments as the torch reference). :func:`lif_psp_forward`/:func:`lif_psp_backward`
run the LIF neuron and its filter in one kernel each, so the spikes and their error never make
a round trip through memory: the same values, about half the memory traffic of the pair.

Example::

    >>> import torch                                                  # doctest: +SKIP
    >>> from snntorch_ext.kernels.spec import PSPParams              # doctest: +SKIP
    >>> from snntorch_ext.kernels.triton.psp import psp_forward      # doctest: +SKIP
    >>> spk = torch.ones(2, 1, device="cuda")                         # doctest: +SKIP
    >>> psp_forward(spk, spk[0] * 0, PSPParams(0.75, 4.0))[:, 0]    # doctest: +SKIP
    tensor([0.2500, 0.4375], device='cuda:0')

Reference:
    Spiking sequence label-based spatio-temporal back-propagation algorithm for training deep
    spiking neural networks. Journal of Electronics & Information Technology (JEIT), 2024
    (pseudo-code lines 6-7); W. Zhang, P. Li. Temporal spike sequence learning via
    backpropagation for deep spiking neural networks (TSSL-BP). NeurIPS 2020.
"""

from __future__ import annotations

from typing import Any

import torch
import triton
import triton.language as tl

from ._lif import BLOCK, NUM_WARPS, grid, number, one_step, over_time, psp_update
from .lif import run_backward, run_forward

__all__ = ["lif_psp_backward", "lif_psp_forward", "psp_backward", "psp_forward"]


@triton.jit
def _psp_forward_kernel(spk_ptr, psp0_ptr, psp_ptr, decay, tau_s, N, T: tl.constexpr,
                        BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    a = tl.load(psp0_ptr + offs, mask=live, other=0.0).to(tl.float32)
    spk_ptr += offs
    psp_ptr += offs
    for _ in range(T):
        spk = tl.load(spk_ptr, mask=live, other=0.0).to(tl.float32)
        a = psp_update(a, spk, decay, tau_s, psp_ptr, BLOCK)
        tl.store(psp_ptr, a.to(psp_ptr.dtype.element_ty), mask=live)
        spk_ptr += N
        psp_ptr += N


@triton.jit
def _psp_backward_kernel(grad_psp_ptr, grad_spk_ptr, grad_psp0_ptr, decay, tau_s, N,
                         T: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    last = (T - 1) * tl.cast(N, tl.int64) + offs
    grad_psp_ptr += last
    grad_spk_ptr += last
    delta = tl.full([BLOCK], 0.0, tl.float32)  # delta[t+1], zero after the last step
    for _ in range(T):
        delta = tl.load(grad_psp_ptr, mask=live, other=0.0).to(tl.float32) + decay * delta
        grad_spk = tl.math.div_rn(delta, tl.full([BLOCK], tau_s, tl.float32))
        tl.store(grad_spk_ptr, grad_spk.to(grad_spk_ptr.dtype.element_ty), mask=live)
        grad_psp_ptr -= N
        grad_spk_ptr -= N
    tl.store(grad_psp0_ptr + offs, (decay * delta).to(grad_psp0_ptr.dtype.element_ty),
             mask=live)


def psp_forward(spk: torch.Tensor, psp0: torch.Tensor, pp: Any) -> torch.Tensor:
    r"""Filter the spikes ``[T, ...]`` from ``psp0`` in one kernel launch.

    .. math:: a[t] = d\, a[t-1] + o[t] / \tau_s

    Args:
        spk: spikes ``[T, ...]`` (float32, float16 or bfloat16).
        psp0: the PSP before the first step, shaped like one step.
        pp: a ``kernels.spec.PSPParams`` (``decay`` :math:`d`, ``tau_s``).

    Returns:
        The PSP sequence ``[T, ...]`` in the dtype of ``spk``.

    Raises:
        ValueError: a bad ``spk``, ``psp0`` shape, or a parameter of several values.
    """
    spk, _ = over_time("spk", spk.contiguous())
    step = spk.shape[1:]
    psp0 = one_step("psp0", psp0, step)
    decay, tau_s = number("decay", pp.decay), number("tau_s", pp.tau_s)
    psp = torch.empty_like(spk)
    n = step.numel()
    if n:  # an empty batch launches nothing
        _psp_forward_kernel[grid(n)](spk, psp0, psp, decay, tau_s, n, T=spk.shape[0],
                                     BLOCK=BLOCK, num_warps=NUM_WARPS)
    return psp


def psp_backward(grad_psp: torch.Tensor, pp: Any) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The error recursion of :func:`psp_forward` in one kernel launch.

    .. math:: \hat\delta[t] = \bar a[t] + d\,\hat\delta[t+1], \qquad
              \frac{\partial L}{\partial o[t]} = \hat\delta[t] / \tau_s

    Args:
        grad_psp: the error arriving at the PSP sequence ``[T, ...]``.
        pp: the ``kernels.spec.PSPParams`` of the forward pass.

    Returns:
        ``(grad_spk, grad_psp0)`` in the dtype of ``grad_psp``.
    """
    grad_psp, _ = over_time("grad_psp", grad_psp.contiguous())
    step = grad_psp.shape[1:]
    decay, tau_s = number("decay", pp.decay), number("tau_s", pp.tau_s)
    grad_spk = torch.empty_like(grad_psp)
    grad_psp0 = torch.empty(step, dtype=grad_psp.dtype, device=grad_psp.device)
    n = step.numel()
    if n:  # an empty batch launches nothing
        _psp_backward_kernel[grid(n)](grad_psp, grad_spk, grad_psp0, decay, tau_s, n,
                                      T=grad_psp.shape[0], BLOCK=BLOCK, num_warps=NUM_WARPS)
    return grad_spk, grad_psp0


def lif_psp_forward(x: torch.Tensor, mem0: torch.Tensor, psp0: torch.Tensor, p: Any, pp: Any
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The LIF neuron and its PSP filter over ``x`` ``[T, ...]`` in one kernel launch.

    The values of :func:`~snntorch_ext.kernels.triton.lif.lif_forward` followed by
    :func:`psp_forward`:

    .. math:: u[t] = \beta\, c[t-1]\, u[t-1] + \gamma\, x[t] - \rho[t-1], \quad
              \mathrm{spk}[t] = s\, H(u[t] - \vartheta), \quad
              a[t] = d\, a[t-1] + \mathrm{spk}[t] / \tau_s

    Args:
        x: input currents ``[T, ...]`` (float32, float16 or bfloat16).
        mem0, psp0: membrane and PSP before the first step, shaped like one step.
        p: a ``kernels.spec.LIFParams``; pp: a ``kernels.spec.PSPParams``.

    Returns:
        ``(spk, psp, mem)``, each ``[T, ...]`` in the dtype of ``x``.

    Raises:
        ValueError: a bad ``x``, state shape, ``reset``, or a parameter of several values.
    """
    spk, mem, psp = run_forward(x, mem0, p, psp0, pp)
    return spk, psp, mem


def lif_psp_backward(grad_spk: torch.Tensor | None, grad_psp: torch.Tensor | None,
                     grad_mem: torch.Tensor | None, mem: torch.Tensor, mem0: torch.Tensor,
                     p: Any, pp: Any, sg: Any, keep: torch.Tensor | None
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    r"""The error recursions of :func:`lif_psp_forward` (PSP, then LIF) in one kernel launch.

    .. math::

        \hat\delta[t] = \bar a[t] + d\,\hat\delta[t+1], \qquad
        \epsilon[t] = \mu[t] + g'\,\big(s\,(\sigma[t] + \hat\delta[t]/\tau_s)
                      + \lambda\alpha\,\epsilon[t+1]\big) + \lambda\, c[t]\, \epsilon[t+1]

    Args:
        grad_spk, grad_psp, grad_mem: the errors at the three outputs ``[T, ...]``, or None.
        mem: the membranes returned by :func:`lif_psp_forward`; mem0: the initial membrane.
        p, pp, sg: the parameters of the forward pass and the surrogate (as
            :func:`~snntorch_ext.kernels.triton.lif.lif_backward` takes it).
        keep: MSG's mask ``[T, ...]`` or None.

    Returns:
        ``(grad_x, grad_mem0, grad_psp0)``; ``grad_psp0`` is None without ``grad_psp``.
    """
    return run_backward(grad_spk, grad_mem, mem, mem0, p, sg, keep, grad_psp, pp)
