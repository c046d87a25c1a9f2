r"""The postsynaptic-potential filter over a whole sequence, forward and backward (torch reference).

:class:`~snntorch_ext.PSPLeaky` is :mod:`.lif` followed by this linear filter of its spikes; the
backward pass runs this recursion first, then the LIF one. The Triton twins in
``snntorch_ext.kernels.triton.psp`` have the same names and arguments.

Example::

    >>> import torch
    >>> from snntorch_ext.kernels.psp import psp_forward
    >>> from snntorch_ext.kernels.spec import PSPParams
    >>> psp_forward(torch.ones(2, 1), torch.zeros(1), PSPParams(0.75, 4.0))[:, 0]
    tensor([0.2500, 0.4375])
"""

from __future__ import annotations

import torch

from .lif import backward, lif_forward
from .spec import LIFParams, PSPParams, SurrogateSpec

__all__ = ["lif_psp_backward", "lif_psp_forward", "psp_backward", "psp_forward"]


def psp_forward(spk: torch.Tensor, psp0: torch.Tensor, pp: PSPParams) -> torch.Tensor:
    r"""Filter the spikes ``[T, ...]`` from the initial PSP ``psp0``, bitwise as
    :func:`snntorch_ext.neurons.psp_step` does step by step:

    .. math:: a[t] = d\, a[t-1] + o[t] / \tau_s, \qquad a[-1] = \mathrm{psp0}

    Returns:
        ``psp`` ``[T, ...]`` in the dtype of ``spk``.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import PSPParams
        >>> psp_forward(torch.tensor([[1.0], [0.0]]), torch.zeros(1), PSPParams(0.5, 2.0))[:, 0]
        tensor([0.5000, 0.2500])
    """
    psp = torch.empty_like(spk)
    a = psp0
    for t, out in enumerate(psp.unbind(0)):
        torch.mul(a, pp.decay, out=out)
        out.add_(spk[t] / pp.tau_s)
        a = out
    return psp


def psp_backward(grad_psp: torch.Tensor, pp: PSPParams) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The error recursion of :func:`psp_forward` (the paper's PSP iteration factor).

    .. math::

        \hat\delta[t] = \frac{\partial L}{\partial a[t]}\Big|_{\mathrm{direct}}
                        + d\, \hat\delta[t+1], \qquad
        \frac{\partial L}{\partial o[t]} = \frac{\hat\delta[t]}{\tau_s}, \qquad
        \frac{\partial L}{\partial a[-1]} = d\, \hat\delta[0]

    Args:
        grad_psp: the error arriving at the PSP sequence ``[T, ...]``.
        pp: the filter's parameters.

    Returns:
        ``(grad_spk, grad_psp0)``.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import PSPParams
        >>> psp_backward(torch.ones(2, 1), PSPParams(0.5, 2.0))[0][:, 0]
        tensor([0.7500, 0.5000])
    """
    grad_spk = torch.empty_like(grad_psp)
    delta = grad_psp[-1]
    for t in range(grad_psp.shape[0] - 1, -1, -1):
        if t + 1 < grad_psp.shape[0]:
            delta = grad_psp[t] + delta * pp.decay
        torch.div(delta, pp.tau_s, out=grad_spk[t])
    return grad_spk, delta * pp.decay


def lif_psp_forward(x: torch.Tensor, mem0: torch.Tensor, psp0: torch.Tensor, p: LIFParams,
                    pp: PSPParams) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r""":class:`~snntorch_ext.PSPLeaky` over ``x`` ``[T, ...]``:
    :func:`~snntorch_ext.kernels.lif.lif_forward`, then :func:`psp_forward`.

    .. math:: a[t] = d\, a[t-1] + s\, H(u[t] - \vartheta) / \tau_s

    Returns:
        ``(spk, psp, mem)``, each ``[T, ...]``.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams, PSPParams
        >>> spk, psp, mem = lif_psp_forward(torch.ones(2, 1), torch.zeros(1), torch.zeros(1),
        ...                                 LIFParams(0.5, 0.5, "zero"), PSPParams(0.5, 2.0))
        >>> psp[:, 0]
        tensor([0.5000, 0.7500])
    """
    spk, mem = lif_forward(x, mem0, p)
    return spk, psp_forward(spk, psp0, pp), mem


def lif_psp_backward(grad_spk: torch.Tensor | None, grad_psp: torch.Tensor | None,
                     grad_mem: torch.Tensor | None, mem: torch.Tensor, mem0: torch.Tensor,
                     p: LIFParams, pp: PSPParams, sg: SurrogateSpec, keep: torch.Tensor | None
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    r"""The error recursions of :func:`lif_psp_forward`, PSP and LIF in one pass over time
    (no ``[T, ...]`` buffer for the spikes' error):

    .. math::

        \hat\delta[t] = \bar a[t] + d\,\hat\delta[t+1], \qquad
        \epsilon[t] = \mu[t] + g'\,\big(s\,(\sigma[t] + \hat\delta[t]/\tau_s)
                      + \lambda\alpha\,\epsilon[t+1]\big) + \lambda\, c[t]\, \epsilon[t+1]

    the same as :func:`psp_backward` followed by
    :func:`~snntorch_ext.kernels.lif.lif_backward`.

    Returns:
        ``(grad_x, grad_mem0, grad_psp0)``; ``grad_psp0`` is None without ``grad_psp``.

    Example::

        >>> import torch
        >>> from snntorch_ext.kernels.spec import LIFParams, PSPParams, SurrogateSpec
        >>> sg = SurrogateSpec("rectangular", 1.0, lambda z: (z.abs() < 0.5).to(z.dtype))
        >>> lif_psp_backward(None, torch.ones(2, 1), None, torch.ones(2, 1), torch.zeros(1),
        ...                  LIFParams(0.5, 0.8, "zero"), PSPParams(0.5, 2.0), sg, None)[2]
        tensor([0.7500])
    """
    return backward(grad_spk, grad_mem, mem, mem0, p, sg, keep, grad_psp, pp)
