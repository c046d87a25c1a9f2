r"""Triton twin of the LIF recursion: ``snn.Leaky``, :class:`~snntorch_ext.BPSTALeaky` (BPSA and
BPTA) and :class:`~snntorch_ext.MSGLeaky` (a masked surrogate), forward and backward over all T.

Forward (one program per ``BLOCK`` neurons, a loop over :math:`t` inside), snnTorch's delayed
reset with :math:`r` = 1 for ``"zero"`` (else 0), :math:`\rho` = 1 for ``"subtract"`` (else 0),
input gain :math:`\gamma` and graded-spike factor :math:`s`:

.. math::

    u[t] = \beta\,\big(1 - r\,o[t-1]\big)\,u[t-1] + \gamma\,x[t] - \rho\,\vartheta\,o[t-1],
    \qquad o[t] = H(u[t] - \vartheta), \qquad \text{spk}[t] = s\,o[t]

with :math:`u[-1]` the initial membrane and :math:`o[-1] = H(u[-1] - \vartheta)`.

Backward, the error recursion :math:`\epsilon[t] = \partial L/\partial u[t]` from
:math:`\epsilon[T] = 0`, with :math:`g'` the surrogate derivative at :math:`u[t] - \vartheta`,
:math:`m[t]` MSG's mask times its scale (1 without MSG), :math:`\bar s[t]` and
:math:`\bar u[t]` the gradients arriving at the spike and membrane outputs, and BPTA's residual
factor :math:`\alpha` (0 for ``snn.Leaky``; SPEC §1 / paper Eq. 10):

.. math::

    \epsilon[t] = m[t]\,g'\big(s\,\bar s[t] + \beta\alpha\,\epsilon[t+1]\big) + \bar u[t]
                  + \beta\,\big(1 - r\,o[t]\big)\,\epsilon[t+1],
    \qquad \frac{\partial L}{\partial x[t]} = \gamma\,\epsilon[t].

(MSG's mask multiplies the spike path only: with MSG there is no residual.) Saved for backward:
the membrane sequence in the input's dtype and the spikes :math:`o` as ``uint8``: one float and
one byte per neuron and step.

Example::

    >>> import torch                                                    # doctest: +SKIP
    >>> from snntorch_ext.kernels.triton.lif import lif_multi_step      # doctest: +SKIP
    >>> x = torch.rand(8, 128, 256, device="cuda", requires_grad=True)  # doctest: +SKIP
    >>> spk, mem = lif_multi_step(x, None, beta=0.9, threshold=0.5, reset="zero",
    ...     alpha=0.8, surrogate="bpsa", surrogate_param=0.5)  # doctest: +SKIP
    >>> spk.sum().backward()                                            # doctest: +SKIP

Reference:
    G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatiotemporal
    adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022 (Eq. 2-4,
    9-10). L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network
    with sparse surrogate gradient. 2024 (Eq. 10-12). The one-kernel-over-T layout follows
    SpikingJelly's CuPy multi-step neurons (W. Fang et al., Science Advances 9, 2023).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._lif import (
    BLOCK,
    NUM_WARPS,
    check_sequence,
    grid,
    initial_state,
    lif_carry,
    lif_dbeta,
    lif_dthr_reset,
    lif_update,
    per_neuron,
    reduce_to,
    reset_id,
)
from .surrogate import surrogate_grad, surrogate_kind

__all__ = ["lif_backward", "lif_forward", "lif_multi_step"]

Scalar = float | torch.Tensor


@triton.jit(do_not_specialize=["T"])
def _lif_forward_kernel(
    x_ptr, mem0_ptr, beta_ptr, beta_stride, thr_ptr, thr_stride, gain_ptr, gain_stride,
    graded_ptr, graded_stride, spk_ptr, mem_ptr, bits_ptr, T, N,
    RESET: tl.constexpr, BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    beta = tl.load(beta_ptr + offs * beta_stride, mask=live, other=0.0)
    thr = tl.load(thr_ptr + offs * thr_stride, mask=live, other=1.0)
    gain = tl.load(gain_ptr + offs * gain_stride, mask=live, other=0.0)
    graded = tl.load(graded_ptr + offs * graded_stride, mask=live, other=0.0)
    u = tl.load(mem0_ptr + offs, mask=live, other=0.0).to(tl.float32)
    o = (u - thr > 0.0).to(tl.float32)
    x_ptr += offs
    spk_ptr += offs
    mem_ptr += offs
    bits_ptr += offs
    for _ in range(T):
        x = tl.load(x_ptr, mask=live, other=0.0).to(tl.float32)
        u = lif_update(u, o, gain * x, beta, thr, RESET)
        o = (u - thr > 0.0).to(tl.float32)
        tl.store(mem_ptr, u.to(mem_ptr.dtype.element_ty), mask=live)
        tl.store(spk_ptr, (graded * o).to(spk_ptr.dtype.element_ty), mask=live)
        tl.store(bits_ptr, o.to(tl.uint8), mask=live)
        x_ptr += N
        spk_ptr += N
        mem_ptr += N
        bits_ptr += N


@triton.jit(do_not_specialize=["T"])
def _lif_backward_kernel(
    grad_spk_ptr, grad_mem_ptr, mem_ptr, bits_ptr, mask_ptr, x_ptr, mem0_ptr,
    beta_ptr, beta_stride, thr_ptr, thr_stride, gain_ptr, gain_stride, graded_ptr, graded_stride,
    sg_ptr, sg_stride, alpha, mask_scale,
    grad_x_ptr, grad_mem0_ptr, dbeta_ptr, dthr_ptr, dgain_ptr, dgraded_ptr, T, N,
    RESET: tl.constexpr, KIND: tl.constexpr, HAS_GRAD_SPK: tl.constexpr,
    HAS_GRAD_MEM: tl.constexpr, HAS_MASK: tl.constexpr, PARAM_GRADS: tl.constexpr,
    GAIN_GRAD: tl.constexpr, BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    beta = tl.load(beta_ptr + offs * beta_stride, mask=live, other=0.0)
    thr = tl.load(thr_ptr + offs * thr_stride, mask=live, other=1.0)
    gain = tl.load(gain_ptr + offs * gain_stride, mask=live, other=0.0)
    graded = tl.load(graded_ptr + offs * graded_stride, mask=live, other=0.0)
    sg_param = tl.load(sg_ptr + offs * sg_stride, mask=live, other=1.0)
    residual = beta * alpha
    last = (T - 1).to(tl.int64) * N + offs
    grad_spk_ptr += last
    grad_mem_ptr += last
    mem_ptr += last
    bits_ptr += last
    mask_ptr += last
    x_ptr += last
    grad_x_ptr += last
    eps_next = tl.zeros([BLOCK], dtype=tl.float32)
    dbeta = tl.zeros([BLOCK], dtype=tl.float32)
    dthr = tl.zeros([BLOCK], dtype=tl.float32)
    dgain = tl.zeros([BLOCK], dtype=tl.float32)
    dgraded = tl.zeros([BLOCK], dtype=tl.float32)
    for _ in range(T):
        u = tl.load(mem_ptr, mask=live, other=0.0).to(tl.float32)
        o = tl.load(bits_ptr, mask=live, other=0).to(tl.float32)
        g = surrogate_grad(u - thr, sg_param, KIND)
        if HAS_MASK:
            g = g * (tl.load(mask_ptr, mask=live, other=0).to(tl.float32) * mask_scale)
        into_spike = residual * eps_next
        if HAS_GRAD_SPK:
            gs = tl.load(grad_spk_ptr, mask=live, other=0.0).to(tl.float32)
            into_spike += graded * gs
            if PARAM_GRADS:
                dgraded += gs * o
        eps = g * into_spike + lif_carry(eps_next, o, beta, RESET)
        if HAS_GRAD_MEM:
            eps += tl.load(grad_mem_ptr, mask=live, other=0.0).to(tl.float32)
        if PARAM_GRADS:
            dbeta += lif_dbeta(eps_next, u, o, RESET)
            dthr += lif_dthr_reset(eps_next, o, RESET) - g * into_spike
        if GAIN_GRAD:
            dgain += eps * tl.load(x_ptr, mask=live, other=0.0).to(tl.float32)
        tl.store(grad_x_ptr, (gain * eps).to(grad_x_ptr.dtype.element_ty), mask=live)
        eps_next = eps
        grad_spk_ptr -= N
        grad_mem_ptr -= N
        mem_ptr -= N
        bits_ptr -= N
        mask_ptr -= N
        x_ptr -= N
        grad_x_ptr -= N
    # The step before the sequence: u[-1] (the initial membrane) and its reset o[-1]; BPTA's
    # residual also runs through o[-1] = g(u[-1]).
    u = tl.load(mem0_ptr + offs, mask=live, other=0.0).to(tl.float32)
    o = (u - thr > 0.0).to(tl.float32)
    g = surrogate_grad(u - thr, sg_param, KIND)
    into_spike = residual * eps_next
    grad_mem0 = g * into_spike + lif_carry(eps_next, o, beta, RESET)
    tl.store(grad_mem0_ptr + offs, grad_mem0.to(grad_mem0_ptr.dtype.element_ty), mask=live)
    if PARAM_GRADS:
        dbeta += lif_dbeta(eps_next, u, o, RESET)
        dthr += lif_dthr_reset(eps_next, o, RESET) - g * into_spike
        tl.store(dbeta_ptr + offs, dbeta, mask=live)
        tl.store(dthr_ptr + offs, dthr, mask=live)
        tl.store(dgraded_ptr + offs, dgraded, mask=live)
    if GAIN_GRAD:
        tl.store(dgain_ptr + offs, dgain, mask=live)


def lif_forward(x: torch.Tensor, mem0: torch.Tensor | None, beta: Scalar, threshold: Scalar,
                reset: str = "zero", gain: Scalar = 1.0, graded: Scalar = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Run the LIF forward recursion over all steps in one kernel launch.

    .. math:: u[t] = \beta\,(1 - r\,o[t-1])\,u[t-1] + \gamma\,x[t] - \rho\,\vartheta\,o[t-1],
              \quad o[t] = H(u[t] - \vartheta)

    Args:
        x: input current ``[T, B, ...]`` (float32, float16 or bfloat16; made contiguous).
        mem0: membrane before the first step, shaped like one step, or None/empty for zeros.
        beta: decay :math:`\beta` (clamped by the caller), a number or a tensor broadcasting
            to one step (per neuron).
        threshold: :math:`\vartheta`, a number or per-neuron tensor.
        reset: ``"zero"``, ``"subtract"`` or ``"none"`` (``snn.Leaky``'s ``reset_mechanism``).
        gain: input gain :math:`\gamma`.
        graded: ``graded_spikes_factor`` :math:`s` of the output spikes.

    Returns:
        ``(spk, mem, bits)``: spikes :math:`s\,o` and membranes ``[T, B, ...]`` in the dtype of
        ``x``, and :math:`o` as ``uint8`` (what backward reads).

    Raises:
        ValueError: for a bad ``x``, ``mem0``, parameter shape or ``reset``.
    """
    x = check_sequence("x", x)
    step = x.shape[1:]
    n = step.numel()
    u0 = initial_state("mem0", mem0, step, x)
    beta_t, beta_s = per_neuron("beta", beta, step, x)
    thr_t, thr_s = per_neuron("threshold", threshold, step, x)
    gain_t, gain_s = per_neuron("gain", gain, step, x)
    graded_t, graded_s = per_neuron("graded", graded, step, x)
    spk, mem = torch.empty_like(x), torch.empty_like(x)
    bits = torch.empty(x.shape, dtype=torch.uint8, device=x.device)
    _lif_forward_kernel[grid(n)](
        x, u0, beta_t, beta_s, thr_t, thr_s, gain_t, gain_s, graded_t, graded_s,
        spk, mem, bits, x.shape[0], n, RESET=reset_id(reset), BLOCK=BLOCK, num_warps=NUM_WARPS)
    return spk, mem, bits


def lif_backward(grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None,
                 mem: torch.Tensor, bits: torch.Tensor, mem0: torch.Tensor | None,
                 beta: Scalar, threshold: Scalar, reset: str = "zero", gain: Scalar = 1.0,
                 graded: Scalar = 1.0, alpha: float = 0.0, surrogate: str = "atan",
                 surrogate_param: Scalar = 2.0, mask: torch.Tensor | None = None,
                 mask_scale: float = 1.0, x: torch.Tensor | None = None,
                 param_grads: bool = False) -> dict[str, torch.Tensor | None]:
    r"""Run the LIF error recursion backwards over all steps in one kernel launch.

    .. math:: \epsilon[t] = m[t]\,g'\big(s\,\bar s[t] + \beta\alpha\,\epsilon[t+1]\big)
              + \bar u[t] + \beta\,(1 - r\,o[t])\,\epsilon[t+1]

    Args:
        grad_spk, grad_mem: gradients of the ``spk`` and ``mem`` outputs (None: zero).
        mem, bits: what :func:`lif_forward` returned.
        mem0, beta, threshold, reset, gain, graded: as given to :func:`lif_forward`.
        alpha: BPTA's residual factor (0: plain ``snn.Leaky``); only with ``reset="zero"``.
        surrogate: the surrogate's name (a key of
            :data:`~snntorch_ext.kernels.triton.surrogate.KINDS`).
        surrogate_param: its parameter (width, alpha, or the threshold for ``"bpsa"``; a
            per-neuron tensor works, e.g. the neuron's threshold).
        mask: MSG's mask ``[T, B, ...]`` (bool, uint8 or float; 0 drops), or None.
        mask_scale: factor of the kept entries.
        x: the input, needed only for the gradient of a tensor ``gain``.
        param_grads: also return the gradients of ``beta``, ``threshold`` and ``graded``.

    Returns:
        A dict with ``x`` and ``mem0`` (the input and initial-membrane gradients) and, for
        each of ``beta``, ``threshold``, ``gain`` and ``graded`` that is a tensor and was asked
        for, its gradient in its own shape (None otherwise).

    Raises:
        ValueError: for a bad ``surrogate``, ``reset``, shapes, or ``alpha`` with a reset
            other than ``"zero"``.
    """
    step = mem.shape[1:]
    n = step.numel()
    if alpha and reset != "zero":
        raise ValueError(f"alpha (BPTA's residual) needs reset='zero', got reset={reset!r}")
    kind = surrogate_kind(surrogate)
    u0 = initial_state("mem0", mem0, step, mem)
    beta_t, beta_s = per_neuron("beta", beta, step, mem)
    thr_t, thr_s = per_neuron("threshold", threshold, step, mem)
    gain_t, gain_s = per_neuron("gain", gain, step, mem)
    graded_t, graded_s = per_neuron("graded", graded, step, mem)
    sg_t, sg_s = per_neuron("surrogate_param", surrogate_param, step, mem)
    if mask is not None:
        if mask.shape != mem.shape:
            raise ValueError(f"mask must have the shape of the sequence {tuple(mem.shape)}, "
                             f"got {tuple(mask.shape)}")
        mask = mask.contiguous()
        mask = mask.view(torch.uint8) if mask.dtype == torch.bool else mask
    gain_grad = x is not None and isinstance(gain, torch.Tensor)
    grad_x = torch.empty_like(mem)
    grad_mem0 = torch.empty(n, dtype=u0.dtype, device=mem.device)
    partial = torch.empty((4, n) if param_grads or gain_grad else (4, 1), dtype=torch.float32,
                          device=mem.device)
    _lif_backward_kernel[grid(n)](
        mem if grad_spk is None else grad_spk.contiguous(),
        mem if grad_mem is None else grad_mem.contiguous(),
        mem, bits, bits if mask is None else mask, mem if x is None else x.contiguous(), u0,
        beta_t, beta_s, thr_t, thr_s, gain_t, gain_s, graded_t, graded_s, sg_t, sg_s,
        float(alpha), float(mask_scale),
        grad_x, grad_mem0, partial[0], partial[1], partial[2], partial[3], mem.shape[0], n,
        RESET=reset_id(reset), KIND=kind, HAS_GRAD_SPK=grad_spk is not None,
        HAS_GRAD_MEM=grad_mem is not None, HAS_MASK=mask is not None, PARAM_GRADS=param_grads,
        GAIN_GRAD=gain_grad, BLOCK=BLOCK, num_warps=NUM_WARPS)
    grads = {"x": grad_x, "mem0": grad_mem0.view(step), "beta": None, "threshold": None,
             "gain": None, "graded": None}
    if param_grads:
        grads["beta"] = reduce_to(partial[0], step, beta)
        grads["threshold"] = reduce_to(partial[1], step, threshold)
        grads["graded"] = reduce_to(partial[3], step, graded)
    if gain_grad:
        grads["gain"] = reduce_to(partial[2], step, gain)
    return grads


def _needs_grad(value: Scalar) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad


class _LIFFunction(torch.autograd.Function):
    """:func:`lif_forward` and :func:`lif_backward` as one autograd node."""

    @staticmethod
    def forward(ctx, x, mem0, beta, threshold, gain, graded, reset, alpha, surrogate,
                surrogate_param, mask, mask_scale):
        spk, mem, bits = lif_forward(x, mem0, beta, threshold, reset, gain, graded)
        ctx.save_for_backward(mem, bits, mem0 if isinstance(mem0, torch.Tensor) else None,
                              x if _needs_grad(gain) else None, mask)
        ctx.params = (beta, threshold, gain, graded)
        ctx.config = (reset, alpha, surrogate, surrogate_param, mask_scale)
        return spk, mem

    @staticmethod
    def backward(ctx, grad_spk, grad_mem):
        mem, bits, mem0, x, mask = ctx.saved_tensors
        beta, threshold, gain, graded = ctx.params
        reset, alpha, surrogate, surrogate_param, mask_scale = ctx.config
        grads = lif_backward(
            grad_spk, grad_mem, mem, bits, mem0, beta, threshold, reset, gain, graded, alpha,
            surrogate, surrogate_param, mask, mask_scale, x,
            param_grads=any(_needs_grad(p) for p in (beta, threshold, graded)))
        grad_mem0 = grads["mem0"] if mem0 is not None and mem0.numel() else None
        return (grads["x"], grad_mem0, grads["beta"], grads["threshold"], grads["gain"],
                grads["graded"], None, None, None, None, None, None)


def lif_multi_step(x: torch.Tensor, mem0: torch.Tensor | None, beta: Scalar, threshold: Scalar,
                   reset: str = "zero", gain: Scalar = 1.0, graded: Scalar = 1.0,
                   alpha: float = 0.0, surrogate: str = "atan", surrogate_param: Scalar = 2.0,
                   mask: torch.Tensor | None = None, mask_scale: float = 1.0
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A whole LIF layer over ``[T, B, ...]`` as one differentiable call (two kernel launches).

    The forward and backward recursions of the module docstring; gradients flow to ``x``,
    ``mem0`` and every parameter given as a tensor that requires grad.

    .. math:: \epsilon[t] = m[t]\,g'\big(s\,\bar s[t] + \beta\alpha\,\epsilon[t+1]\big)
              + \bar u[t] + \beta\,(1 - r\,o[t])\,\epsilon[t+1]

    Args:
        x: input ``[T, B, ...]``; mem0: initial membrane (one step) or None.
        beta, threshold, reset, gain, graded: the layer (see :func:`lif_forward`).
        alpha: BPTA's residual factor (0 for ``snn.Leaky``).
        surrogate, surrogate_param: the surrogate derivative (see :func:`lif_backward`).
        mask, mask_scale: MSG's mask ``[T, B, ...]`` and the factor of its kept entries.

    Returns:
        ``(spk, mem)``, both ``[T, B, ...]`` in the dtype of ``x``.

    Example::

        >>> import torch                                                     # doctest: +SKIP
        >>> x = torch.rand(4, 2, 3, device="cuda", requires_grad=True)        # doctest: +SKIP
        >>> spk, mem = lif_multi_step(x, None, 0.9, 0.5, surrogate="rectangular",
        ...                           surrogate_param=1.0)                    # doctest: +SKIP
    """
    return _LIFFunction.apply(x, mem0, beta, threshold, gain, graded, reset, float(alpha),
                              surrogate, surrogate_param, mask, mask_scale)
