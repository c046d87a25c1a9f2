"""Output decoders: modules between a network's output sequence and the loss.

Example::

    >>> import torch, snntorch_ext as snx
    >>> out = torch.rand(8, 4, 20)                     # [T, B, C * k] output spikes
    >>> snx.Voting(num_classes=10, neurons_per_class=2)(out).shape
    torch.Size([8, 4, 10])
    >>> snx.TWO(num_steps=8)(torch.rand(8, 4, 10)).shape   # [T, B, C] currents -> [B, C]
    torch.Size([4, 10])
"""

from .two import TWO, TemporallyWeightedOutput
from .voting import Voting

__all__ = ["TWO", "TemporallyWeightedOutput", "Voting"]
