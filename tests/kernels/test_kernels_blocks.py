"""The torch recursions cut into blocks of neurons, on channels-last and time-constant inputs:
the same values (bitwise) and gradients (float64, 1e-10) as the per-step ``forward``."""

from __future__ import annotations

import pytest
import snntorch as snn
import torch

import snntorch_ext as snx
from snntorch_ext.kernels import blocks, plan, run_neuron
from snntorch_ext.kernels.blocks import Layout

S = snx.surrogate
NEURONS = {
    "bpsa+bpta": lambda: snx.BPSTALeaky(init_hidden=True),
    "msg": lambda: snx.MSGLeaky(spike_grad=S.masked(p=0.5, generator=torch.Generator()
                                                      .manual_seed(3)), init_hidden=True),
    "psp": lambda: snx.PSPLeaky(init_hidden=True),
    "leaky-rect-zero": lambda: snn.Leaky(beta=0.8, reset_mechanism="zero", init_hidden=True,
                                         spike_grad=S.rectangular()),
    "leaky-pl-subtract": lambda: snn.Leaky(beta=0.8, reset_mechanism="subtract",
                                           init_hidden=True, spike_grad=S.piecewise_linear()),
}


def _first(output):
    return output[0] if isinstance(output, tuple) else output

CL = torch.channels_last
SHAPE = (5, 2, 3, 4, 5)  # [T, B, C, H, W]: 120 neurons, four blocks of 37 (the last partial)


def _input(kind: str) -> tuple[torch.Tensor, callable]:
    """The leaf that gets the gradient and how the layer's input ``[T, ...]`` is made of it."""
    torch.manual_seed(0)
    x = torch.rand(SHAPE, dtype=torch.float64) * 1.6 - 0.2
    if kind == "channels-last":
        return x, lambda leaf: leaf.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
    if kind == "time-constant":
        return x[0], lambda leaf: leaf.contiguous(memory_format=CL).expand(SHAPE)
    return x, lambda leaf: leaf


def _run(name: str, kind: str, fused: bool):
    leaf, make = _input(kind)
    leaf = leaf.clone().requires_grad_()
    mem0 = torch.rand(SHAPE[1:], dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mem0.requires_grad_()
    neuron = NEURONS[name]()
    neuron.mem = mem0 * 1.0
    x = make(leaf)
    if fused:
        out = run_neuron(neuron, x, "fused", plan(neuron))
    else:
        out = torch.stack([_first(neuron(x_t)) for x_t in x.unbind(0)])
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(7),
                          dtype=out.dtype)
    ((out * weights).sum() + (neuron.mem * 0.5).sum()).backward()
    return out, neuron.mem.detach(), leaf.grad, mem0.grad


@pytest.mark.parametrize("kind", ["contiguous", "channels-last", "time-constant"])
@pytest.mark.parametrize("name", list(NEURONS))
def test_blocks_equal_per_step(name: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "BLOCK", 37)
    out, mem, grad_x, grad_mem0 = _run(name, kind, fused=False)
    out_f, mem_f, grad_x_f, grad_mem0_f = _run(name, kind, fused=True)
    assert 0 < out.count_nonzero() < out.numel()
    assert torch.equal(out_f, out) and torch.equal(mem_f, mem)
    for grad, expected in ((grad_x_f, grad_x), (grad_mem0_f, grad_mem0)):
        assert expected.abs().max() > 0
        torch.testing.assert_close(grad, expected, rtol=0, atol=1e-10)
    if kind != "contiguous":  # the outputs keep the input's channels-last steps
        assert out_f[0].is_contiguous(memory_format=CL) and not out_f[0].is_contiguous()


def test_layout_reads_the_memory_order() -> None:
    step = torch.zeros(2, 3, 4, 5).contiguous(memory_format=CL)
    layout = Layout.of(step)
    assert layout.order == (0, 2, 3, 1)
    x = torch.arange(240.0).view(2, 2, 4, 5, 3).permute(0, 1, 4, 2, 3)  # [T, ...] channels-last
    flat = layout.flat(x)
    assert flat.data_ptr() == x.data_ptr() and torch.equal(flat, torch.arange(240.0).view(2, -1))
    assert torch.equal(layout.unflat(flat.contiguous()), x)
    assert Layout.of(step[:, :, ::2]).order == (0, 1, 2, 3)  # not dense: the logical order
    assert Layout.of(torch.zeros(3, 1, 4).permute(1, 0, 2)).order in ((0, 1, 2), (1, 0, 2))


def test_blocks_cover_every_neuron_once() -> None:
    covered = torch.zeros(150_000, dtype=torch.int64)
    for block in blocks.blocks(150_000):
        covered[block] += 1
    assert torch.equal(covered, torch.ones_like(covered))
    assert list(blocks.blocks(0)) == []
