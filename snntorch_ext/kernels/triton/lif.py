r"""Triton twin of :mod:`snntorch_ext.kernels.lif`: ``snn.Leaky``, :class:`~snntorch_ext.MSGLeaky`
and :class:`~snntorch_ext.BPSTALeaky` (BPSA, BPTA), forward and backward in one kernel each.

One program owns ``BLOCK`` neurons and loops over all :math:`T` steps inside, the membrane in a
float32 register, like SpikingJelly's CuPy multi-step neurons. Forward, snnTorch's delayed reset
(:math:`c = 1 - o` for ``"zero"``, else 1; :math:`\rho = \vartheta o` for ``"subtract"``,
else 0), input gain :math:`\gamma` and graded-spike factor :math:`s`:

.. math::

    u[t] = \beta\, c[t-1]\, u[t-1] + \gamma\, x[t] - \rho[t-1], \qquad
    o[t] = H(u[t] - \vartheta), \qquad \mathrm{spk}[t] = s\, o[t],

from :math:`u[-1]` = ``mem0``. The membrane is rounded to the dtype of ``x`` at every step, as
the torch path holds it, so the spikes are exactly ``mem > threshold`` of the returned ``mem``
and the backward pass can recompute them (our choice, see :ref:`design-engine`; in float32 the
rounding does nothing). The number of steps is a compile-time constant: each new ``T``
compiles the kernels once.

Backward, the error recursion of BPSA + BPTA (Shen et al. 2022, Eq. 10) from
:math:`\epsilon[T] = 0`, with :math:`\epsilon[t] = \partial L/\partial u[t]`, :math:`g'` the
surrogate derivative at :math:`u[t] - \vartheta` times MSG's mask and scale (if any),
:math:`\sigma[t]`/:math:`\mu[t]` the errors arriving at the spikes/membranes, :math:`\lambda =
\beta` and BPTA's residual :math:`\alpha` (0 for ``snn.Leaky`` and MSG):

.. math::

    \epsilon[t] = \mu[t] + g'\,\big(s\,\sigma[t] + \lambda\alpha\,\epsilon[t+1]\big)
                  + \lambda\, c[t]\, \epsilon[t+1], \qquad
    \frac{\partial L}{\partial x[t]} = \gamma\,\epsilon[t], \qquad
    \frac{\partial L}{\partial u[-1]} = \lambda\,\big(c[-1] + \alpha\, g'(u[-1] - \vartheta)\big)
                                        \epsilon[0].

The backward reads only the membrane sequence (one float per neuron and step); the spikes are
recomputed from it. :class:`~snntorch_ext.PSPLeaky`'s filter runs inside the same kernels in
:func:`snntorch_ext.kernels.triton.psp.lif_psp_forward` and ``lif_psp_backward``.

Example::

    >>> import torch                                                      # doctest: +SKIP
    >>> from snntorch_ext.kernels.spec import LIFParams, SurrogateSpec   # doctest: +SKIP
    >>> from snntorch_ext.kernels.triton.lif import lif_backward, lif_forward  # doctest: +SKIP
    >>> p = LIFParams(beta=0.9, threshold=0.5, reset="zero", alpha=0.8)   # doctest: +SKIP
    >>> x = torch.rand(16, 128, 4096, device="cuda")                      # doctest: +SKIP
    >>> spk, mem = lif_forward(x, torch.zeros_like(x[0]), p)             # doctest: +SKIP
    >>> sg = SurrogateSpec("bpsa", 0.5, None)                             # doctest: +SKIP
    >>> grad_x, grad_mem0 = lif_backward(torch.ones_like(spk), None, mem, x[0] * 0, p, sg,
    ...                                  None)                            # doctest: +SKIP

Reference:
    G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
    adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022 (Eq. 2-4,
    9-10). L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network
    with sparse surrogate gradient. 2024 (Eq. 10-12). W. Fang et al. SpikingJelly: an
    open-source machine learning infrastructure platform for spike-based intelligence. Science
    Advances 9(40), 2023 (the one-kernel-over-T layout).
"""

from __future__ import annotations

from typing import Any

import torch
import triton
import triton.language as tl

from ._lif import (
    BLOCK,
    NUM_WARPS,
    device_reason,
    grid,
    lif_carry,
    lif_update,
    number,
    one_step,
    over_time,
    psp_update,
    reset_id,
)
from .surrogate import KINDS, surrogate_grad, surrogate_kind

__all__ = ["lif_backward", "lif_forward", "unsupported"]


@triton.jit
def _lif_forward_kernel(x_ptr, mem0_ptr, spk_ptr, mem_ptr, psp0_ptr, psp_ptr, beta, thr, gain,
                        graded, decay, tau_s, N, x_step, T: tl.constexpr, RESET: tl.constexpr,
                        WITH_PSP: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    u = tl.load(mem0_ptr + offs, mask=live, other=0.0).to(tl.float32)
    o = (u > thr).to(tl.float32)
    a = tl.full([BLOCK], 0.0, tl.float32)
    if WITH_PSP:
        a = tl.load(psp0_ptr + offs, mask=live, other=0.0).to(tl.float32)
    x_ptr += offs
    spk_ptr += offs
    mem_ptr += offs
    psp_ptr += offs
    for _ in range(T):
        x = tl.load(x_ptr, mask=live, other=0.0).to(tl.float32)
        u = lif_update(u, o, gain * x, beta, thr, RESET)
        u = u.to(mem_ptr.dtype.element_ty).to(tl.float32)  # the precision the torch path holds
        o = (u > thr).to(tl.float32)
        spk = (graded * o).to(spk_ptr.dtype.element_ty)
        tl.store(mem_ptr, u.to(mem_ptr.dtype.element_ty), mask=live)
        tl.store(spk_ptr, spk, mask=live)
        if WITH_PSP:
            a = psp_update(a, spk.to(tl.float32), decay, tau_s, psp_ptr, BLOCK)
            tl.store(psp_ptr, a.to(psp_ptr.dtype.element_ty), mask=live)
            psp_ptr += N
        x_ptr += x_step
        spk_ptr += N
        mem_ptr += N


@triton.jit
def _lif_backward_kernel(grad_spk_ptr, grad_psp_ptr, grad_mem_ptr, mem_ptr, mem0_ptr, keep_ptr,
                         grad_x_ptr, grad_mem0_ptr, grad_psp0_ptr, beta, thr, gain, graded,
                         alpha, sg_param, keep_scale, decay, tau_s, N, T: tl.constexpr,
                         RESET: tl.constexpr, KIND: tl.constexpr, HAS_GRAD_SPK: tl.constexpr,
                         HAS_GRAD_PSP: tl.constexpr, HAS_GRAD_MEM: tl.constexpr,
                         HAS_KEEP: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    last = (T - 1) * tl.cast(N, tl.int64) + offs
    grad_spk_ptr += last
    grad_psp_ptr += last
    grad_mem_ptr += last
    mem_ptr += last
    keep_ptr += last
    grad_x_ptr += last
    residual = beta * alpha
    eps_next = tl.full([BLOCK], 0.0, tl.float32)  # eps[t+1], zero after the last step
    delta = tl.full([BLOCK], 0.0, tl.float32)  # the PSP's error, zero after the last step
    for _ in range(T):
        u = tl.load(mem_ptr, mask=live, other=0.0).to(tl.float32)
        o = (u > thr).to(tl.float32)
        g = surrogate_grad(u - thr, sg_param, KIND)
        if HAS_KEEP:
            g = g * (tl.load(keep_ptr, mask=live, other=0).to(tl.float32) * keep_scale)
        sigma = tl.full([BLOCK], 0.0, tl.float32)  # the error arriving at spk[t]
        if HAS_GRAD_SPK:
            sigma += tl.load(grad_spk_ptr, mask=live, other=0.0).to(tl.float32)
        if HAS_GRAD_PSP:  # delta[t] = dL/da[t] + d delta[t+1]; spk[t] gets delta[t] / tau_s
            delta = tl.load(grad_psp_ptr, mask=live, other=0.0).to(tl.float32) + decay * delta
            sigma += tl.math.div_rn(delta, tl.full([BLOCK], tau_s, tl.float32))
        into_spike = graded * sigma + residual * eps_next  # BPTA: lam * alpha * eps[t+1]
        eps = g * into_spike + lif_carry(o, beta, RESET) * eps_next
        if HAS_GRAD_MEM:
            eps += tl.load(grad_mem_ptr, mask=live, other=0.0).to(tl.float32)
        tl.store(grad_x_ptr, (gain * eps).to(grad_x_ptr.dtype.element_ty), mask=live)
        eps_next = eps
        grad_spk_ptr -= N
        grad_psp_ptr -= N
        grad_mem_ptr -= N
        mem_ptr -= N
        keep_ptr -= N
        grad_x_ptr -= N
    # u[-1]: the initial membrane, its (detached) reset and, with BPTA, its residual g(u[-1]).
    u = tl.load(mem0_ptr + offs, mask=live, other=0.0).to(tl.float32)
    o = (u > thr).to(tl.float32)
    g = surrogate_grad(u - thr, sg_param, KIND)
    grad_mem0 = (g * residual + lif_carry(o, beta, RESET)) * eps_next
    tl.store(grad_mem0_ptr + offs, grad_mem0.to(grad_mem0_ptr.dtype.element_ty), mask=live)
    if HAS_GRAD_PSP:
        tl.store(grad_psp0_ptr + offs, (decay * delta).to(grad_psp0_ptr.dtype.element_ty),
                 mask=live)


def unsupported(x: torch.Tensor, plan: Any) -> str | None:
    """Why these kernels cannot run ``plan`` (a ``kernels.select.Plan``) on ``x``, or None.

    Example::

        >>> import torch                                                 # doctest: +SKIP
        >>> unsupported(torch.ones(2, 3, dtype=torch.float64), plan)    # doctest: +SKIP
        'the Triton kernels take float32, float16 or bfloat16, got torch.float64'
    """
    reason = device_reason(x)
    if reason is not None:
        return reason
    if x.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        return f"the Triton kernels take float32, float16 or bfloat16, got {x.dtype}"
    if plan.sg.kind not in KINDS:
        return f"the surrogate {plan.sg.kind!r} has no Triton kernel (known: {sorted(KINDS)})"
    records = (plan.p, plan.sg) + (() if getattr(plan, "pp", None) is None else (plan.pp,))
    for record in records:
        for name, value in record._asdict().items():
            if isinstance(value, torch.Tensor) and value.numel() != 1:
                return f"{name} has {value.numel()} values; the Triton kernels take one number"
    return None


def run_forward(x: torch.Tensor, mem0: torch.Tensor, p: Any, psp0: torch.Tensor | None = None,
                pp: Any = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Launch the forward kernel: ``(spk, mem, psp)``, ``psp`` only with ``pp`` (a
    ``kernels.spec.PSPParams``) and ``psp0``. Shared by :func:`lif_forward` and
    :func:`snntorch_ext.kernels.triton.psp.lif_psp_forward`."""
    x, x_step = over_time("x", x)
    step = x.shape[1:]
    mem0 = one_step("mem0", mem0, step)
    scalars = [number(name, value) for name, value in (
        ("beta", p.beta), ("threshold", p.threshold), ("gain", p.gain), ("graded", p.graded))]
    scalars += [0.0, 1.0] if pp is None else [number("decay", pp.decay),
                                              number("tau_s", pp.tau_s)]
    psp0 = None if pp is None else one_step("psp0", psp0, step)
    reset = reset_id(p.reset)
    spk = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    mem = torch.empty_like(spk)
    psp = None if pp is None else torch.empty_like(spk)
    n = step.numel()
    if n:  # an empty batch launches nothing
        _lif_forward_kernel[grid(n)](
            x, mem0, spk, mem, mem0 if psp0 is None else psp0, mem if psp is None else psp,
            *scalars, n, x_step, T=x.shape[0], RESET=reset, WITH_PSP=pp is not None,
            BLOCK=BLOCK, num_warps=NUM_WARPS)
    return spk, mem, psp


def run_backward(grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None,
                 mem: torch.Tensor, mem0: torch.Tensor, p: Any, sg: Any,
                 keep: torch.Tensor | None, grad_psp: torch.Tensor | None = None,
                 pp: Any = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Launch the backward kernel: ``(grad_x, grad_mem0, grad_psp0)``, the last only with
    ``grad_psp`` and ``pp``. Shared by :func:`lif_backward` and
    :func:`snntorch_ext.kernels.triton.psp.lif_psp_backward`."""
    mem = mem.contiguous()
    step = mem.shape[1:]
    mem0 = one_step("mem0", mem0, step)
    grads = []
    for name, grad in (("grad_spk", grad_spk), ("grad_psp", grad_psp), ("grad_mem", grad_mem),
                       ("keep", keep)):
        if grad is not None and grad.shape != mem.shape:
            raise ValueError(f"{name} must have the shape of mem {tuple(mem.shape)}, "
                             f"got {tuple(grad.shape)}")
        grads.append(None if grad is None else grad.contiguous())
    grad_spk, grad_psp, grad_mem, keep = grads
    if keep is not None and keep.dtype == torch.bool:
        keep = keep.view(torch.uint8)
    with_psp = grad_psp is not None and pp is not None
    scalars = [number(name, value) for name, value in (
        ("beta", p.beta), ("threshold", p.threshold), ("gain", p.gain), ("graded", p.graded),
        ("alpha", p.alpha), ("surrogate param", sg.param), ("scale", sg.scale))]
    scalars += [number("decay", pp.decay), number("tau_s", pp.tau_s)] if with_psp else [0.0, 1.0]
    flags = {"RESET": reset_id(p.reset), "KIND": surrogate_kind(sg.kind),
             "HAS_GRAD_SPK": grad_spk is not None, "HAS_GRAD_PSP": with_psp,
             "HAS_GRAD_MEM": grad_mem is not None, "HAS_KEEP": keep is not None}
    grad_x = torch.empty_like(mem)
    grad_mem0 = torch.empty_like(mem0)
    grad_psp0 = torch.empty_like(mem0) if with_psp else None
    n = step.numel()
    if n:  # an empty batch launches nothing
        _lif_backward_kernel[grid(n)](
            mem if grad_spk is None else grad_spk, grad_psp if with_psp else mem,
            mem if grad_mem is None else grad_mem, mem, mem0, mem if keep is None else keep,
            grad_x, grad_mem0, grad_mem0 if grad_psp0 is None else grad_psp0, *scalars, n,
            T=mem.shape[0], BLOCK=BLOCK, num_warps=NUM_WARPS, **flags)
    return grad_x, grad_mem0, grad_psp0


def lif_forward(x: torch.Tensor, mem0: torch.Tensor, p: Any) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The LIF neuron over ``x`` ``[T, ...]`` from ``mem0``, in one kernel launch.

    .. math:: u[t] = \beta\, c[t-1]\, u[t-1] + \gamma\, x[t] - \rho[t-1], \qquad
              \mathrm{spk}[t] = s\, H(u[t] - \vartheta)

    Args:
        x: input currents ``[T, ...]``, float32, float16 or bfloat16; a stride-0 view over
            time (a constant input) is read without copying.
        mem0: the membrane before the first step, shaped like one step.
        p: a ``kernels.spec.LIFParams`` (``beta``, ``threshold``, ``reset``, ``gain``,
            ``graded``; ``alpha`` is not used by the forward pass).

    Returns:
        ``(spk, mem)``, both ``[T, ...]`` contiguous in the dtype of ``x``.

    Raises:
        ValueError: a bad ``x``, ``mem0`` shape, ``reset``, or a parameter of several values.
    """
    spk, mem, _ = run_forward(x, mem0, p)
    return spk, mem


def lif_backward(grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None,
                 mem: torch.Tensor, mem0: torch.Tensor, p: Any, sg: Any,
                 keep: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The error recursion of :func:`lif_forward`, BPTA's residual included, in one launch.

    .. math:: \epsilon[t] = \mu[t] + g'\,\big(s\,\sigma[t] + \lambda\alpha\,\epsilon[t+1]\big)
              + \lambda\, c[t]\, \epsilon[t+1]

    Args:
        grad_spk: :math:`\sigma`, the error at the spikes ``[T, ...]``, or None (zero).
        grad_mem: :math:`\mu`, the error at the membranes ``[T, ...]``, or None (zero).
        mem: the membrane sequence returned by :func:`lif_forward`.
        mem0: the initial membrane given to :func:`lif_forward`.
        p: the ``kernels.spec.LIFParams`` of the forward pass.
        sg: a ``kernels.spec.SurrogateSpec``: ``kind`` and ``param`` select :math:`g'`
            (``grad_fn`` is not used), ``scale`` multiplies the kept entries of ``keep``.
        keep: MSG's mask ``[T, ...]`` (bool, 0 drops the entry), or None.

    Returns:
        ``(grad_x, grad_mem0)`` in the dtypes of ``mem`` and ``mem0``.

    Raises:
        ValueError: an unknown surrogate or reset, or shapes that do not match ``mem``.
    """
    grad_x, grad_mem0, _ = run_backward(grad_spk, grad_mem, mem, mem0, p, sg, keep)
    return grad_x, grad_mem0
