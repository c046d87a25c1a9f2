"""Data sets as ``torch.utils.data.Dataset`` objects, through torchvision and tonic.

Every factory has the signature ``factory(root, train=True, download=False, ...)`` that recipes
use. Nothing is ever downloaded unless ``download=True``.

Example::

    >>> import snntorch_ext as snx
    >>> test = snx.data.mnist_offline("~/.cache/snntorch_ext", train=False)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_SOURCES = {  # public name: submodule. Submodules load on first use, so that importing the
    # package pulls in no data-set library (torchvision, tonic) until a data set is asked for.
    "EventFrames": "events", "cifar10_dvs": "events", "dvs_gesture": "events",
    "ncaltech101": "events", "nmnist": "events",
    "imagenet": "imagenet",
    "mnist_offline": "offline",
    "cifar10": "static", "cifar100": "static", "mnist": "static", "mnist_transform": "static",
    "balanced_subset": "subset", "validation_split": "subset",
    "nmnist_synthetic": "synthetic", "saccade_events": "synthetic",
}

__all__ = sorted(_SOURCES)


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_SOURCES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
