"""SpikingSequential equals the snnTorch tutorial's per-step loop, values and gradients."""

import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_ext as snx


def _layers():
    torch.manual_seed(0)
    return [nn.Conv2d(1, 3, 3), snn.Leaky(beta=0.8, init_hidden=True), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(12, 5), snn.Leaky(beta=0.8, init_hidden=True, output=True)]


def test_matches_per_step_loop():
    seq = snx.SpikingSequential(*_layers())
    loop = nn.Sequential(*_layers())
    x = torch.rand(6, 4, 1, 6, 6) * 2
    x_loop = x.clone().requires_grad_()
    x_seq = x.clone().requires_grad_()

    snx.utils.reset(loop)
    out_loop = torch.stack([loop(x_t)[0] for x_t in x_loop.unbind(0)])
    out_seq = seq(x_seq)
    torch.testing.assert_close(out_seq, out_loop)
    assert out_seq.sum() > 0

    weights = torch.rand_like(out_seq)
    (out_loop * weights).sum().backward()
    (out_seq * weights).sum().backward()
    torch.testing.assert_close(x_seq.grad, x_loop.grad)
    torch.testing.assert_close(seq[0].weight.grad, loop[0].weight.grad)


def test_resets_state_between_calls():
    seq = snx.SpikingSequential(nn.Linear(2, 2), snn.Leaky(beta=0.9, init_hidden=True))
    x = torch.rand(3, 1, 2)
    torch.testing.assert_close(seq(x), seq(x))


def test_multi_step_modules_get_the_whole_sequence():
    class CountSteps(nn.Module):
        multi_step = True

        def forward(self, x):
            self.seen = x.shape
            return x

    probe = CountSteps()
    snx.SpikingSequential(probe, nn.Linear(2, 2))(torch.rand(5, 3, 2))
    assert probe.seen == (5, 3, 2)


def test_rejects_input_without_time_axis():
    with pytest.raises(ValueError, match="x must be a time-major tensor"):
        snx.SpikingSequential(nn.Linear(2, 2))(torch.rand(2))
