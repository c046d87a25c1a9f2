"""snnTorch's class-wide reset and detach reaching states that are not a membrane (internal)."""

from __future__ import annotations

import snntorch as snn
import torch
from torch import nn

from .surrogate import atan

__all__ = ["RegisteredState"]


class RegisteredState(snn.Leaky):
    """One state tensor of a module, entered in snnTorch's registry of live neurons.

    snnTorch's class methods ``snn.Leaky.reset_hidden()`` and ``detach_hidden()`` (called by
    ``snntorch.utils.reset`` and ``snntorch.backprop.TBPTT``) zero or detach ``.mem`` of every
    ``snn.Leaky`` in ``snn.SpikingNeuron.instances``. This member of the registry has no
    membrane of its own: its ``mem`` *is* the owner's attribute ``name`` (a state buffer, or a
    property whose setter restarts the state), so those class methods reset and detach it
    along with the membranes (:class:`~snntorch_ext.PSPLeaky`'s PSP and spikes,
    :class:`~snntorch_ext.TimeSharedDropout`'s per-step mask). Keep it in a plain attribute
    of the owner (``object.__setattr__``), not as a submodule.
    """

    def __init__(self, owner: nn.Module, name: str) -> None:
        super().__init__(beta=0.0, spike_grad=atan())  # snnTorch's default does not pickle
        object.__setattr__(self, "_owner", owner)  # not a submodule (that would be a cycle)
        self._state_name = name

    def _init_mem(self) -> None:
        """No membrane buffer: ``mem`` is the owner's state (see the class docstring)."""

    @property
    def mem(self) -> torch.Tensor:
        """The owner's state tensor."""
        return getattr(self._owner, self._state_name)

    @mem.setter
    def mem(self, value: torch.Tensor) -> None:
        setattr(self._owner, self._state_name, value)
