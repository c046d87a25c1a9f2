"""Output decoders: modules between a network's output sequence and the loss.

Example::

    >>> import snntorch_ext as snx
"""

from .two import TWO, TemporallyWeightedOutput
from .voting import Voting

__all__ = ["TWO", "TemporallyWeightedOutput", "Voting"]
