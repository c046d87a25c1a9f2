r"""Learning-rate schedules as pure functions of the epoch (so a resumed run is exact)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SCHEDULES", "lr_factor"]

SCHEDULES = ("constant", "cosine", "step")


def lr_factor(schedule: str, kwargs: dict[str, Any], epoch: int, epochs: int) -> float:
    r"""The multiplier of the base learning rate during ``epoch`` (0-based) of ``epochs``.

    ``"cosine"`` (optional linear warm-up of ``warmup_epochs`` epochs, floor ``min_factor``):

    .. math::

        f(e) = \frac{e + 1}{W} \;(e < W), \qquad
        f(e) = m + \frac{1 - m}{2}\left(1 + \cos\frac{\pi (e - W)}{E - W}\right) \;(e \ge W)

    ``"step"``: :math:`f(e) = \gamma^{|\{k : e \ge \mathrm{milestone}_k\}|}`; ``"constant"``: 1.

    Example::

        >>> from snntorch_ext.engine import lr_factor
        >>> lr_factor("cosine", {"warmup_epochs": 5}, 0, 300)
        0.2
    """
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        passed = sum(epoch >= m for m in kwargs.get("milestones", ()))
        return float(kwargs.get("gamma", 0.1)) ** passed
    if schedule == "cosine":
        warmup = int(kwargs.get("warmup_epochs", 0))
        floor = float(kwargs.get("min_factor", 0.0))
        if epoch < warmup:
            return (epoch + 1) / warmup
        span = max(epochs - warmup, 1)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
