"""The networks of the four papers and of their STBP baseline.

Every builder takes ``(in_channels, num_classes, ...)`` and returns a module that maps a
``[T, B, ...]`` input to a ``[T, B, ...]`` output (most are :class:`~snntorch_ext.SpikingSequential`).

Example::

    >>> import snntorch_ext as snx
    >>> net = snx.models.stbp_cnn(in_channels=1, num_classes=10)
"""

from .stbp import stbp_cnn, stbp_neuron

__all__ = ["stbp_cnn", "stbp_neuron"]
