"""snntorch-ext: four published training rules for spiking neural networks as snnTorch parts.

Example::

    import snntorch as snn
    import snntorch_ext as snx

    lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))
"""

from . import (
    comparison,
    data,
    decode,
    engine,
    functional,
    metrics,
    models,
    neurons,
    recipes,
    surrogate,
    utils,
)
from .asf import ASF
from .decode import TWO, TemporallyWeightedOutput, Voting
from .dropout import TimeSharedDropout
from .neurons import BPSTALeaky, MSGLeaky, PSPLeaky
from .sequential import SpikingSequential

__version__ = "0.1.0"

__all__ = [
    "ASF",
    "BPSTALeaky",
    "MSGLeaky",
    "PSPLeaky",
    "SpikingSequential",
    "TWO",
    "TemporallyWeightedOutput",
    "TimeSharedDropout",
    "Voting",
    "__version__",
    "comparison",
    "data",
    "decode",
    "engine",
    "functional",
    "metrics",
    "models",
    "neurons",
    "recipes",
    "surrogate",
    "utils",
]
