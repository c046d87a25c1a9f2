r"""Input encoders: turn a batch ``[B, ...]`` into a time-major sequence ``[T, B, ...]``.

Every encoder has the signature ``encoder(x, num_steps) -> [T, B, ...]`` that recipes use.

Example::

    >>> import torch, snntorch_ext as snx
    >>> snx.functional.direct(torch.rand(2, 1, 28, 28), num_steps=4).shape
    torch.Size([4, 2, 1, 28, 28])
"""

from __future__ import annotations

import torch
from snntorch import spikegen

from .._checks import check_positive, check_positive_int

__all__ = ["direct", "rate", "time_major"]


def direct(x: torch.Tensor, num_steps: int) -> torch.Tensor:
    r"""Direct (repeated) input: the same analog frame at every step.

    .. math:: x[t] = x, \qquad t = 1, \dots, T

    Returns an expanded view ``[T, B, ...]`` (no copy); the first layer sees real values, as in
    the BPSA/BPTA and MSG papers.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.functional.direct(torch.ones(3, 5), 2).shape
        torch.Size([2, 3, 5])
    """
    num_steps = check_positive_int("num_steps", num_steps)
    return x.unsqueeze(0).expand(num_steps, *x.shape)


def rate(x: torch.Tensor, num_steps: int, gain: float = 1.0) -> torch.Tensor:
    r"""Poisson (Bernoulli) rate coding through snnTorch's :func:`snntorch.spikegen.rate`.

    .. math:: x[t] \sim \mathrm{Bernoulli}\big(\mathrm{clip}(g\,x, 0, 1)\big)

    Args:
        x: intensities, normally in ``[0, 1]``.
        num_steps: ``T``.
        gain: :math:`g`, the spike probability of an intensity of one.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.functional.rate(torch.ones(3, 5), 4).sum().item()
        60.0
    """
    num_steps = check_positive_int("num_steps", num_steps)
    gain = check_positive("gain", gain)
    return spikegen.rate(x.clamp(0, 1 / gain), num_steps=num_steps, gain=gain)


def time_major(x: torch.Tensor, num_steps: int) -> torch.Tensor:
    r"""Batch-first sequences ``[B, T, ...]`` (event frames from a DataLoader) to ``[T, B, ...]``.

    .. math:: y[t, b] = x[b, t]

    Raises ValueError if the sequences do not have ``num_steps`` steps.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.functional.time_major(torch.zeros(2, 10, 2, 34, 34), 10).shape
        torch.Size([10, 2, 2, 34, 34])
    """
    num_steps = check_positive_int("num_steps", num_steps)
    if x.dim() < 3 or x.shape[1] != num_steps:
        raise ValueError(
            f"x must be batch-first sequences [B, T={num_steps}, ...], got shape {tuple(x.shape)}"
        )
    return x.transpose(0, 1)
