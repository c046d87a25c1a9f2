r"""The LIF recursion over a whole sequence, forward and backward side by side (torch reference).

One function pair serves ``snn.Leaky``, :class:`~snntorch_ext.MSGLeaky` (input gain, masked
surrogate) and :class:`~snntorch_ext.BPSTALeaky` (BPSA as :math:`g'`, BPTA's residual
:math:`\alpha`). The forward pass is bit-for-bit the per-step ``forward`` of those neurons; the
backward pass is the error recursion written out by hand, so autograd keeps one tensor (the
membrane sequence) instead of several per step. The Triton twins in
``snntorch_ext.kernels.triton.lif`` have the same names and arguments.

Example::

    >>> import torch
    >>> from snntorch_ext.kernels.lif import lif_forward
    >>> from snntorch_ext.kernels.spec import LIFParams
    >>> spk, mem = lif_forward(torch.ones(3, 2), torch.zeros(2), LIFParams(0.5, 1.2, "zero"))
    >>> spk[:, 0]
    tensor([0., 1., 0.])
"""

from __future__ import annotations

import torch

from .blocks import Layout, blocks
from .spec import LIFParams, PSPParams, SurrogateSpec

__all__ = ["lif_backward", "lif_forward"]


def _has(value: object, neutral: float) -> bool:
    """Whether a parameter must be applied: tensors always (no data-dependent branch)."""
    return isinstance(value, torch.Tensor) or value != neutral


def lif_forward(x: torch.Tensor, mem0: torch.Tensor, p: LIFParams
                ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Run the LIF neuron over ``x`` of shape ``[T, ...]`` from the membrane ``mem0``.

    snnTorch's order of operations (``reset_delay=True``), so the values are bitwise those of
    ``T`` calls of ``snn.Leaky.forward``:

    .. math::

        u[t] = \beta\, \big(1 - H(u[t-1] - \vartheta)\big)\, u[t-1] + \gamma\, x[t]
               \;\; (\text{zero reset}), \qquad
        o[t] = s\, H(u[t] - \vartheta),

    with :math:`u[-1]` = ``mem0``; ``"subtract"`` replaces the factor by
    :math:`-\vartheta H(u[t-1] - \vartheta)`, ``"none"`` drops it. BPTA's residual is zero in
    value and does not appear here.

    Args:
        x: input currents ``[T, ...]`` (a stride-0 view over time is fine).
        mem0: initial membrane ``[...]`` in the dtype of ``x``.
        p: the layer's parameters.

    Returns:
        ``(spk, mem)``, both ``[T, ...]`` in the dtype of ``x``.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams
        >>> lif_forward(torch.ones(2, 1), torch.zeros(1), LIFParams(0.5, 0.5, "none"))[1]
        tensor([[1.0000],
                [1.5000]])
    """
    layout = Layout.of(x[0])                           # the outputs keep the steps' format
    mem_flat, mem = layout.new(x.shape[0], x)
    spk_flat, spk = layout.new(x.shape[0], x)          # H(u - threshold), 0/1, per step
    x_flat, mem0_flat = layout.flat(x), layout.flat_step(mem0)
    for block in blocks(layout.numel):                 # a block's steps stay in cache
        _forward_block(x_flat[:, block], mem0_flat[block], p, mem_flat[:, block],
                       spk_flat[:, block])
    if _has(p.graded, 1.0):
        spk.mul_(p.graded)
    return spk, mem


def _forward_block(x: torch.Tensor, mem0: torch.Tensor, p: LIFParams, mem: torch.Tensor,
                   spk: torch.Tensor) -> None:
    """:func:`lif_forward` on one block ``[T, n]``, into ``mem`` and ``spk`` (0/1)."""
    threshold, gain = p.threshold, _has(p.gain, 1.0)
    u, fired = mem0, torch.gt(mem0, threshold).to(x.dtype)
    for t, out in enumerate(mem.unbind(0)):
        torch.mul(u, p.beta, out=out)
        if p.reset == "zero":
            out.addcmul_(out, fired, value=-1.0)       # beta (1 - o[t-1]) u[t-1], exactly
        out.add_(x[t] * p.gain if gain else x[t])
        if p.reset == "subtract":
            out.sub_(fired * threshold)
        u, fired = out, torch.gt(out, threshold, out=spk[t])


def _carry(silent: torch.Tensor | None, grad: torch.Tensor, p: LIFParams) -> torch.Tensor:
    r""":math:`\partial u[t+1] / \partial u[t] = \beta\,(c[t] + \alpha\, g'(z[t]))`, in place of
    ``grad`` (:math:`g'`, already masked) or of ``silent``, :math:`1 - o[t]` (0/1 in the dtype of
    ``grad``) for the zero reset, None otherwise."""
    if not _has(p.alpha, 0.0):
        return torch.ones_like(grad).mul_(p.beta) if silent is None else silent.mul_(p.beta)
    if isinstance(p.alpha, float) and isinstance(p.beta, float):
        grad.mul_(p.alpha * p.beta)
        return grad.add_(silent, alpha=p.beta) if silent is not None else grad.add_(p.beta)
    grad.mul_(p.alpha).add_(silent if silent is not None else 1.0)
    return grad.mul_(p.beta)


def _add_carried(out: torch.Tensor, z: torch.Tensor, grad: torch.Tensor,
                 eps_next: torch.Tensor, p: LIFParams) -> None:
    r"""``out += beta (c[t] + alpha g'(z[t])) eps[t+1]``: with python floats as one
    ``addcmul`` per term (no carry tensor), else through :func:`_carry` (``grad`` is
    overwritten either way)."""
    if not (isinstance(p.beta, float) and isinstance(p.alpha, float)):
        out.addcmul_(_carry(_silent(z, p), grad, p), eps_next)
        return
    if p.alpha != 0.0:
        out.addcmul_(grad, eps_next, value=p.alpha * p.beta)    # BPTA's residual
    silent = _silent(z, p)
    if silent is None:
        out.add_(eps_next, alpha=p.beta)
    else:
        out.addcmul_(silent, eps_next, value=p.beta)


def _silent(z: torch.Tensor, p: LIFParams) -> torch.Tensor | None:
    r""":math:`1 - o = \mathbb{1}[z \le 0]` in the dtype of ``z`` for the zero reset, else None."""
    return torch.le(z, 0, out=torch.empty_like(z)) if p.reset == "zero" else None


def lif_backward(grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None,
                 mem: torch.Tensor, mem0: torch.Tensor, p: LIFParams, sg: SurrogateSpec,
                 keep: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The error recursion of :func:`lif_forward`, BPTA's included (paper Eq. 10 of BPSA + BPTA).

    With :math:`\epsilon[t] = \partial L / \partial u[t]`, :math:`g'` the surrogate derivative
    (times MSG's mask :math:`M[t]` and scale, where there is one), :math:`\sigma[t]` the error
    arriving at the spikes and :math:`\mu[t]` the one arriving at the membrane output:

    .. math::

        \epsilon[t] = \mu[t] + g'(u[t] - \vartheta)\,\big(s\,\sigma[t]
                      + \lambda \alpha\, \epsilon[t+1]\big)
                      + \lambda\, c[t]\, \epsilon[t+1], \qquad \epsilon[T] = 0,

    :math:`c[t] = 1 - o[t]` for the zero reset and 1 otherwise (the reset is detached, as in
    snnTorch), :math:`\lambda = \beta`. The input gets
    :math:`\partial L / \partial x[t] = \gamma\, \epsilon[t]` and the initial membrane
    :math:`\lambda\,(c[-1] + \alpha\, g'(u[-1] - \vartheta))\, \epsilon[0]`. With
    :math:`\alpha = 0` this is plain BPTT through ``snn.Leaky``.

    Args:
        grad_spk: :math:`\sigma`, ``[T, ...]`` or None (no error reaches the spikes).
        grad_mem: :math:`\mu`, ``[T, ...]`` or None.
        mem: the membrane sequence returned by :func:`lif_forward`.
        mem0: the initial membrane given to :func:`lif_forward`.
        p: the layer's parameters.
        sg: the surrogate.
        keep: MSG's mask ``[T, ...]`` (bool, or 0/1 in the dtype of ``mem``), or None.

    Returns:
        ``(grad_x, grad_mem0)``.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams, SurrogateSpec
        >>> p, sg = LIFParams(0.5, 0.5, "none"), SurrogateSpec("x", 0.0, torch.zeros_like)
        >>> lif_backward(None, torch.ones(2, 1), torch.zeros(2, 1), torch.zeros(1), p, sg,
        ...              None)[0]
        tensor([[1.5000],
                [1.0000]])
    """
    grad_x, grad_mem0, _ = backward(grad_spk, grad_mem, mem, mem0, p, sg, keep)
    return grad_x, grad_mem0


def backward(grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None, mem: torch.Tensor,
             mem0: torch.Tensor, p: LIFParams, sg: SurrogateSpec, keep: torch.Tensor | None,
             grad_psp: torch.Tensor | None = None, pp: PSPParams | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    r""":func:`lif_backward`, optionally with a PSP filter's error recursion in the same pass
    (:func:`snntorch_ext.kernels.psp.lif_psp_backward`): the spikes then also receive
    :math:`\hat\delta[t]/\tau_s` with :math:`\hat\delta[t] = \bar a[t] + d\,\hat\delta[t+1]`.
    Returns ``(grad_x, grad_mem0, grad_psp0)`` (``grad_psp0`` None without ``grad_psp``).

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams, SurrogateSpec
        >>> p, sg = LIFParams(0.5, 0.5, "none"), SurrogateSpec("x", 0.0, torch.zeros_like)
        >>> backward(None, torch.ones(2, 1), torch.zeros(2, 1), torch.zeros(1), p, sg,
        ...          None)[2] is None
        True
    """
    layout = Layout.of(mem[0])
    steps = mem.shape[0]
    eps_flat, eps = layout.new(steps, mem)
    grad_mem0 = torch.empty(layout.numel, dtype=mem.dtype, device=mem.device)
    grad_psp0 = None if grad_psp is None else torch.empty_like(grad_mem0)
    flat = [None if t is None else layout.flat(t) for t in (grad_spk, grad_mem, mem, keep,
                                                            grad_psp)]
    mem0_flat = layout.flat_step(mem0)
    for block in blocks(layout.numel):                 # a block's steps stay in cache
        grad_spk_b, grad_mem_b, mem_b, keep_b, grad_psp_b = (
            None if t is None else t[:, block] for t in flat)
        delta = _backward_block(grad_spk_b, grad_mem_b, mem_b, mem0_flat[block], p, sg, keep_b,
                                grad_psp_b, pp, eps_flat[:, block], grad_mem0[block])
        if grad_psp0 is not None:
            torch.mul(delta, pp.decay, out=grad_psp0[block])
    if _has(p.gain, 1.0):
        eps.mul_(p.gain)
    return (eps, layout.unflat_step(grad_mem0),
            None if grad_psp0 is None else layout.unflat_step(grad_psp0))


def _backward_block(grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None,
                    mem: torch.Tensor, mem0: torch.Tensor, p: LIFParams, sg: SurrogateSpec,
                    keep: torch.Tensor | None, grad_psp: torch.Tensor | None,
                    pp: PSPParams | None, eps: torch.Tensor, grad_mem0: torch.Tensor
                    ) -> torch.Tensor | None:
    """:func:`backward` on one block ``[T, n]``: fills ``eps`` (before the input gain) and
    ``grad_mem0``; returns the PSP's error at the first step (None without ``grad_psp``)."""
    scale = keep is not None and sg.scale != 1.0
    delta = None                                          # the PSP's error at t + 1
    for t in range(mem.shape[0] - 1, -1, -1):
        z = mem[t] - p.threshold
        grad = sg.grad_fn(z)
        if keep is not None:
            grad.mul_(keep[t])
            if scale:
                grad.mul_(sg.scale)
        sigma = None if grad_spk is None else grad_spk[t]
        if grad_psp is not None:                         # the PSP's error, same pass
            delta = grad_psp[t] if delta is None else grad_psp[t] + delta * pp.decay
            sigma = delta / pp.tau_s if sigma is None else (delta / pp.tau_s).add_(sigma)
        out = eps[t]
        if sigma is None:
            out.zero_()
        else:
            torch.mul(grad, sigma, out=out)
            if _has(p.graded, 1.0):
                out.mul_(p.graded)
        if grad_mem is not None:
            out.add_(grad_mem[t])
        if t + 1 < mem.shape[0]:
            _add_carried(out, z, grad, eps[t + 1], p)
    z0 = mem0 - p.threshold
    grad0 = sg.grad_fn(z0) if _has(p.alpha, 0.0) else torch.zeros_like(z0)
    torch.mul(_carry(_silent(z0, p), grad0, p), eps[0], out=grad_mem0)
    return delta
