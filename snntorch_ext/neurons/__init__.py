"""Neurons of the four papers, one file each, all drop-in subclasses of ``snn.Leaky``.

Example::

    >>> import snntorch_ext as snx
    >>> lif = snx.neurons.MSGLeaky(init_hidden=True)
"""

from .bpsta import BPSTALeaky
from .msg import MSGLeaky
from .psp import PSPLeaky, psp_step

__all__ = ["BPSTALeaky", "MSGLeaky", "PSPLeaky", "psp_step"]
