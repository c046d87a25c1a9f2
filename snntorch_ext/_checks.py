"""Argument checks shared by the package (internal).

Every check raises :class:`ValueError` whose message names the argument, the value it got and
what is allowed, as the project promises for bad input.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


def check_positive(name: str, value: float) -> float:
    """Return ``float(value)`` if it is a finite number > 0, else raise ValueError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_in_range(name: str, value: float, low: float, high: float, *, closed_high: bool = False
                   ) -> float:
    """Return ``float(value)`` if ``low <= value < high`` (``<= high`` if ``closed_high``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    ok = low <= number <= high if closed_high else low <= number < high
    if not ok or math.isnan(number):
        bracket = "]" if closed_high else ")"
        raise ValueError(f"{name} must lie in [{low}, {high}{bracket}, got {value!r}")
    return number


def check_positive_int(name: str, value: int) -> int:
    """Return ``value`` if it is an integer >= 1, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def check_finite(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Return ``tensor`` if it holds no NaN or infinity, else raise ValueError."""
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise ValueError(f"{name} must hold finite values, got NaN or infinity")
    return tensor


def check_time_major(name: str, tensor: torch.Tensor, min_dim: int = 3) -> torch.Tensor:
    """Return ``tensor`` if it is a ``[T, B, ...]`` tensor with at least ``min_dim`` dims."""
    if not isinstance(tensor, torch.Tensor) or tensor.dim() < min_dim:
        shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
        raise ValueError(
            f"{name} must be a time-major tensor [T, B, ...] with at least {min_dim} dims, "
            f"got {shape}"
        )
    return tensor


STEP_RANK = {  # per-step input rank (batch included) that the first layer of a network fixes
    nn.Linear: 2,
    nn.Conv1d: 3, nn.AvgPool1d: 3, nn.MaxPool1d: 3, nn.AdaptiveAvgPool1d: 3,
    nn.Conv2d: 4, nn.AvgPool2d: 4, nn.MaxPool2d: 4, nn.AdaptiveAvgPool2d: 4, nn.BatchNorm2d: 4,
    nn.Conv3d: 5, nn.AvgPool3d: 5, nn.MaxPool3d: 5, nn.AdaptiveAvgPool3d: 5, nn.BatchNorm3d: 5,
}


def step_rank(modules: Iterable[nn.Module]) -> int | None:
    """The per-step input rank fixed by the first layers, or None (a leading Flatten, ...)."""
    for module in modules:
        if type(module) in STEP_RANK:
            return STEP_RANK[type(module)]
        if not isinstance(module, nn.Identity):
            return None
    return None
