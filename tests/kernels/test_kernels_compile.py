"""A network of this package's neurons compiles as one graph (MSG's masks included)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import snntorch_ext as snx


def _net(backend: str) -> snx.SpikingSequential:
    torch.manual_seed(0)
    net = snx.SpikingSequential(
        nn.Linear(4, 8), snx.MSGLeaky(init_hidden=True),
        nn.Linear(8, 8), snx.BPSTALeaky(init_hidden=True),
        nn.Linear(8, 6), snx.PSPLeaky(threshold=0.3, init_hidden=True), backend=backend)
    with torch.no_grad():
        for layer in net[::2]:
            layer.weight.mul_(3.0)
    return net


@pytest.mark.parametrize("backend", ["fused", "torch"])
def test_no_graph_breaks(backend: str) -> None:
    """``torch._dynamo.explain`` traces forward and the Functions' backward: no break (before,
    MSG's ``Tensor.random_`` broke the per-step graph at every step)."""
    torch._dynamo.reset()
    net = _net(backend)
    explanation = torch._dynamo.explain(lambda x: net(x).sum())(torch.rand(4, 2, 4))
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


def test_compiled_fullgraph_matches_eager() -> None:
    """``torch.compile(fullgraph=True)`` runs forward and backward; with an unmasked surrogate
    (no random numbers) values and gradients equal eager ones."""
    torch._dynamo.reset()
    net = _net("fused")
    net[1].spike_grad = snx.surrogate.piecewise_linear()
    x = torch.rand(4, 2, 4) * 4
    compiled = torch.compile(net, fullgraph=True, backend="aot_eager")
    out = compiled(x)
    out.sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    expected = net(x)
    expected.sum().backward()
    assert torch.equal(out, expected) and out.std() > 0
    for grad, param in zip(grads, net.parameters(), strict=True):
        torch.testing.assert_close(grad, param.grad)
