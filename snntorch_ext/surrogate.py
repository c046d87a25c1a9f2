r"""Surrogate gradients usable as ``spike_grad=`` of any snnTorch neuron.

Every function here is a *factory*: it validates its arguments and returns a callable
``f(z) -> spk`` with ``z = mem - threshold``. The forward pass is snnTorch's Heaviside
:math:`H(z) = \mathbb{1}[z > 0]`; only the backward pass differs between surrogates. Unlike
snnTorch's own surrogates, the spikes keep the dtype and device of ``z`` (float64 stays float64).

Example::

    import snntorch as snn
    import snntorch_ext as snx

    lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._checks import check_positive

__all__ = ["SurrogateFunction", "rectangular"]

GradFn = Callable[[torch.Tensor], torch.Tensor]


class SurrogateFunction(torch.autograd.Function):
    r"""Heaviside forward, ``grad_fn(z)`` as :math:`\partial o / \partial z` in backward.

    The building block of every surrogate in this module: ``SurrogateFunction.apply(z, grad_fn)``
    returns :math:`H(z)` in the dtype of ``z`` and back-propagates
    ``grad_output * grad_fn(z)``. ``grad_fn`` must be a pure function of ``z``.
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, grad_fn: GradFn) -> torch.Tensor:
        ctx.save_for_backward(z)
        ctx.grad_fn = grad_fn
        return (z > 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (z,) = ctx.saved_tensors
        return grad_output * ctx.grad_fn(z), None


class _Surrogate:
    """A picklable, printable ``spike_grad`` callable built from a derivative function."""

    def __init__(self, name: str, grad_fn: GradFn, **params: float) -> None:
        self.name = name
        self.grad_fn = grad_fn
        self.params = params

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return SurrogateFunction.apply(z, self.grad_fn)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def rectangular(width: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""STBP's rectangular surrogate gradient, the baseline of all four papers.

    .. math::

        o = H(z), \qquad
        \frac{\partial o}{\partial z} = \frac{1}{w}\,\mathbb{1}\!\left[|z| < \tfrac{w}{2}\right],
        \qquad z = u - \vartheta

    Args:
        width: width :math:`w > 0` of the window around the threshold; the height is ``1/width``
            so that the surrogate integrates to one.

    Returns:
        A ``spike_grad`` callable ``f(mem - threshold) -> spk``.

    Raises:
        ValueError: if ``width`` is not a finite number > 0.

    Example::

        >>> import torch, snntorch as snn, snntorch_ext as snx
        >>> lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))
        >>> spk, mem = lif(torch.ones(2, 3), lif.init_leaky())

    Reference:
        Y. Wu, L. Deng, G. Li, J. Zhu, L. Shi. Spatio-temporal backpropagation for training
        high-performance spiking neural networks. Frontiers in Neuroscience 12:331, 2018.
    """
    width = check_positive("width", width)
    half, height = width / 2.0, 1.0 / width

    def grad_fn(z: torch.Tensor) -> torch.Tensor:
        return (z.abs() < half).to(z.dtype) * height

    return _Surrogate("rectangular", grad_fn, width=width)
