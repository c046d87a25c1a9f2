"""snntorch-ext: four published training rules for spiking neural networks as snnTorch parts.

Example::

    import snntorch as snn
    import snntorch_ext as snx

    lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))

Submodules and names load on first use, so ``import snntorch_ext`` and the command line start
at once (PyTorch is imported when something needs it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = ("comparison", "data", "decode", "engine", "functional", "kernels", "metrics",
               "models", "neurons", "recipes", "reproduce", "surrogate", "utils")
_NAMES = {
    "ASF": "asf",
    "BPSTALeaky": "neurons",
    "MSGLeaky": "neurons",
    "PSPLeaky": "neurons",
    "SpikingSequential": "sequential",
    "TWO": "decode",
    "TemporallyWeightedOutput": "decode",
    "TimeSharedDropout": "dropout",
    "Voting": "decode",
}

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

if TYPE_CHECKING:
    from . import (
        comparison,
        data,
        decode,
        engine,
        functional,
        kernels,
        metrics,
        models,
        neurons,
        recipes,
        reproduce,
        surrogate,
        utils,
    )
    from .asf import ASF
    from .decode import TWO, TemporallyWeightedOutput, Voting
    from .dropout import TimeSharedDropout
    from .neurons import BPSTALeaky, MSGLeaky, PSPLeaky
    from .sequential import SpikingSequential


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
