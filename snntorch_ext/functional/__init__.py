"""Stateless functions and loss objects: encoders, readouts, losses, targets.

Example::

    >>> import torch, snntorch_ext as snx
    >>> x = snx.functional.direct(torch.rand(2, 1, 28, 28), num_steps=4)
"""

from .asf import asf_mse_loss, signed_poisson
from .encode import direct, rate, time_major
from .readout import rate_scores
from .spike_train import (
    hamming_loss,
    spike_train_accuracy,
    spike_train_scores,
    spike_train_targets,
    van_rossum_filter,
    van_rossum_loss,
)

__all__ = [
    "asf_mse_loss",
    "direct",
    "hamming_loss",
    "rate",
    "rate_scores",
    "signed_poisson",
    "spike_train_accuracy",
    "spike_train_scores",
    "spike_train_targets",
    "time_major",
    "van_rossum_filter",
    "van_rossum_loss",
]
