"""What the multi-step kernels keep for backward: at most one float and one byte per neuron-step."""

from __future__ import annotations

import pytest
import torch

import snntorch_ext as snx
from snntorch_ext.kernels import plan, run_neuron
from snntorch_ext.utils import reset

NEURONS = {
    "bpsa+bpta": lambda: snx.BPSTALeaky(init_hidden=True),
    "msg": lambda: snx.MSGLeaky(init_hidden=True),
    "psp": lambda: snx.PSPLeaky(init_hidden=True),
}


@pytest.mark.parametrize("name", list(NEURONS))
@pytest.mark.parametrize("fused", [True, False])
def test_saved_for_backward(name: str, fused: bool) -> None:
    steps, shape = 6, (2, 5)
    neuron = NEURONS[name]()
    reset(neuron)
    x = torch.rand(steps, *shape, requires_grad=True)
    saved = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if fused:
            out = run_neuron(neuron, x, "fused", plan(neuron))
        else:
            out = torch.stack([neuron(x_t) for x_t in x.unbind(0)])
    out.sum().backward()
    per_step = sum(t.numel() * t.element_size() for t in saved) / (steps * x[0].numel())
    if fused:  # the membrane [T, ...] in float32 (+ the initial state, 1/T of it)
        assert per_step <= 4 + 1 + 4 * 2 / steps
    else:     # the per-step path keeps several tensors per step: the check can fail
        assert per_step > 4 + 1 + 4 * 2 / steps
