"""Output decoders: modules between a network's output sequence and the loss.

Example::

    >>> import snntorch_ext as snx
"""

__all__: list[str] = []
