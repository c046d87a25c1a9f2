r"""Mixed precision (``torch.amp``) and ``torch.compile`` for a run, checked before it starts.

``"bf16"`` and ``"fp16"`` run the forward pass under ``torch.autocast``: convolutions and
linear layers compute in the low precision, while the weights, the optimiser and the spiking
neurons stay float32 (our choice, see :ref:`design-engine`: a membrane potential summed over
many steps in bfloat16's 8-bit mantissa would shift spikes, and BPSA's :math:`1/u` would lose
precision). Only ``"fp16"`` scales the loss (``torch.amp.GradScaler``), because its small
exponent range lets gradients underflow:

.. math:: \tilde{L} = s L, \qquad g = \frac{1}{s} \nabla_\theta \tilde{L}
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

from ..sequential import SpikingSequential
from ..utils import neurons
from .errors import RunError

__all__ = ["PRECISIONS", "Precision", "compile_network"]

PRECISIONS = {"32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """The autocast context, the loss scaler and the optimiser step of one precision.

    Example::

        >>> import torch
        >>> from snntorch_ext.engine.precision import Precision
        >>> p = Precision("bf16", torch.device("cpu"))
        >>> with p.autocast():
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.bfloat16
    """

    def __init__(self, name: str | int, device: torch.device) -> None:
        name = str(name)
        if name not in PRECISIONS:
            raise RunError(f"precision must be one of {', '.join(PRECISIONS)}, got {name!r}")
        if name == "fp16" and device.type != "cuda":
            raise RunError(f"--precision fp16 needs CUDA (float16 autocast with a loss scaler); "
                           f"on {device.type} use --precision bf16 or 32")
        self.name = name
        self.device = device
        self.dtype = PRECISIONS[name]
        self.scaler = torch.amp.GradScaler(device.type) if name == "fp16" else None

    def autocast(self) -> contextlib.AbstractContextManager:
        """``torch.autocast`` in the run's dtype, or nothing for float32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` (scaled for fp16)."""
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Step ``optimizer``; for fp16 the scaler skips steps with non-finite gradients."""
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)

    def keep_neurons_float32(self, model: nn.Module) -> None:
        """Make every spiking neuron of ``model`` take its input in float32 under autocast.

        A :class:`~snntorch_ext.SpikingSequential` already does so for its own neurons (and
        keeps their multi-step kernels); every other neuron gets a forward pre-hook.
        """
        if self.dtype is None:
            return
        managed = {id(layer) for module in model.modules()
                   if isinstance(module, SpikingSequential) for layer in module
                   if not getattr(layer, "multi_step", False)}
        for neuron in neurons(model):
            if id(neuron) not in managed:
                neuron.register_forward_pre_hook(_inputs_to_float32)


def _inputs_to_float32(module: nn.Module, args: tuple) -> tuple:
    return tuple(a.float() if isinstance(a, torch.Tensor) and a.dtype in _LOW else a
                 for a in args)


_LOW = (torch.bfloat16, torch.float16)


def compile_network(model: nn.Module) -> nn.Module:
    """``torch.compile(model)``, or a :class:`RunError` if this PyTorch has no ``compile``.

    The compiled module shares its parameters with ``model``, so checkpoints stay the same.

    Example::

        >>> import torch
        >>> from snntorch_ext.engine.precision import compile_network
        >>> fast = compile_network(torch.nn.Linear(2, 2))  # doctest: +SKIP
    """
    version = tuple(int(part) for part in torch.__version__.split(".")[:2] if part.isdigit())
    if not hasattr(torch, "compile") or version < (2, 0):
        raise RunError(f"--compile needs PyTorch 2.0 or newer, this is {torch.__version__}; "
                       f"upgrade PyTorch or leave out --compile")
    return torch.compile(model)
