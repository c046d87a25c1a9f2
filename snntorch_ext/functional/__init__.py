"""Stateless functions and loss objects: encoders, readouts, losses, targets.

Example::

    >>> import torch, snntorch_ext as snx
    >>> x = snx.functional.direct(torch.rand(2, 1, 28, 28), num_steps=4)
"""

from .encode import direct, rate, time_major
from .readout import rate_scores

__all__ = ["direct", "rate", "rate_scores", "time_major"]
