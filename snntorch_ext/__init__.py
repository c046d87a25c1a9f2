"""snntorch-ext: four published training rules for spiking neural networks as snnTorch parts.

Example::

    import snntorch as snn
    import snntorch_ext as snx

    lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))
"""

import importlib
from typing import Any

from . import (
    comparison,
    decode,
    functional,
    kernels,
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

_LAZY = ("data", "engine", "reproduce")  # loaded on first use: torchvision, tonic, tqdm


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

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
    "kernels",
    "metrics",
    "models",
    "neurons",
    "recipes",
    "reproduce",
    "surrogate",
    "utils",
]
