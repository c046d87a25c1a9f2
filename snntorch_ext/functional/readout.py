r"""Readouts: turn a network's output into class scores ``[B, C]`` for accuracy.

Example::

    >>> import torch, snntorch_ext as snx
    >>> snx.functional.rate_scores(torch.ones(4, 2, 10)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import torch

__all__ = ["rate_scores"]


def rate_scores(out: torch.Tensor) -> torch.Tensor:
    r"""Firing rate (or mean value) of each output over time; ``[B, C]`` input passes through.

    .. math:: s_c = \frac{1}{T} \sum_{t=1}^{T} y_c[t]

    The predicted class is :math:`\arg\max_c s_c`, as in snnTorch's ``accuracy_rate``.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.functional.rate_scores(torch.tensor([[[0., 1.]], [[1., 1.]]]))
        tensor([[0.5000, 1.0000]])
    """
    if out.dim() == 3:
        return out.mean(0)
    if out.dim() == 2:
        return out
    raise ValueError(f"out must be [T, B, C] or [B, C], got shape {tuple(out.shape)}")
