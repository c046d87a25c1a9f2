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

from .spec import PSPParams

__all__ = ["psp_backward", "psp_forward"]


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
