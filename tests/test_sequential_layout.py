"""On the CPU, SpikingSequential runs 2-D convolutions channels-last: the same values and
gradients as the plain per-step loop in the default layout (float64)."""

import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_ext as snx

CL = torch.channels_last


def _layers() -> list[nn.Module]:
    torch.manual_seed(0)
    layers = [nn.Conv2d(1, 4, 3, padding=1),
              snn.Leaky(beta=0.5, init_hidden=True, spike_grad=snx.surrogate.rectangular()),
              nn.AvgPool2d(2),
              nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
              snx.BPSTALeaky(init_hidden=True), nn.MaxPool2d(2),
              nn.Flatten(), nn.Linear(6 * 2 * 2, 5),
              snn.Leaky(beta=0.5, init_hidden=True, spike_grad=snx.surrogate.atan())]
    with torch.no_grad():
        for layer in layers:
            layer.double()
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                layer.weight.mul_(4.0)
    layers[4].eval()  # batch statistics of one step differ from those of all steps folded
    return layers


def _formats(net: nn.Module) -> list[bool]:
    """Whether each convolution's input is channels-last, recorded by pre-hooks."""
    seen = []
    for layer in net:
        if isinstance(layer, nn.Conv2d):
            layer.register_forward_pre_hook(
                lambda m, args: seen.append(args[0].is_contiguous(memory_format=CL)
                                            and args[0].stride(1) == 1))
    return seen


@pytest.mark.parametrize("backend", ["fused", "torch"])
@pytest.mark.parametrize("constant", [False, True])
def test_channels_last_equals_the_plain_loop(backend: str, constant: bool) -> None:
    torch.manual_seed(1)
    image = torch.rand(3, 1, 8, 8, dtype=torch.float64) * 3
    x = image.expand(4, 3, 1, 8, 8) if constant else torch.rand(4, 3, 1, 8, 8,
                                                                  dtype=torch.float64) * 3
    seq = snx.SpikingSequential(*_layers(), backend=backend)
    loop = nn.Sequential(*_layers())
    seen = _formats(seq)
    x_seq = x.clone().requires_grad_()
    x_loop = x.clone().requires_grad_()
    out_seq = seq(x_seq)
    snx.utils.reset(loop)
    out_loop = torch.stack([loop(x_t) for x_t in x_loop.unbind(0)])
    assert 0 < out_loop.count_nonzero() < out_loop.numel()
    assert torch.equal(out_seq, out_loop)
    assert seen == [True, True]  # both convolutions ran channels-last
    weights = torch.rand(out_seq.shape, dtype=torch.float64)
    (out_seq * weights).sum().backward()
    (out_loop * weights).sum().backward()
    torch.testing.assert_close(x_seq.grad, x_loop.grad, rtol=0, atol=1e-10)
    for a, b in zip(seq.parameters(), loop.parameters(), strict=True):
        assert b.grad.abs().max() > 0
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-10)


def test_flatten_gets_a_contiguous_input_and_passes_back_channels_last() -> None:
    seq = snx.SpikingSequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(12, 2))
    grads = []
    seq[0].register_full_backward_hook(lambda m, gi, go: grads.append(go[0]))
    seq(torch.rand(2, 2, 2, 4, 4, requires_grad=True)).sum().backward()
    assert grads[0].is_contiguous(memory_format=CL)
