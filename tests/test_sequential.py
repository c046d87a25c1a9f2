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
    with pytest.raises(ValueError, match=r"x must be a whole sequence \[T, B, \.\.\.\]"):
        snx.SpikingSequential(nn.Linear(2, 2))(torch.rand(2))
    with pytest.raises(ValueError, match="x must be a time-major tensor"):
        snx.SpikingSequential(nn.Flatten())(torch.rand(2))


@pytest.mark.parametrize("net,step", [
    (snx.SpikingSequential(nn.Linear(3, 2), snn.Leaky(beta=0.5, init_hidden=True)), (4, 3)),
    (snx.SpikingSequential(nn.Conv2d(1, 2, 3), snn.Leaky(beta=0.5, init_hidden=True)),
     (4, 1, 5, 5)),
    (snx.SpikingSequential(nn.Conv2d(1, 2, 3), batch_first=True), (4, 1, 5, 5)),
])
def test_a_single_step_is_a_clear_error_naming_the_layout(net, step):
    layout = r"\[B, T, \.\.\.\]" if net.batch_first else r"\[T, B, \.\.\.\]"
    with pytest.raises(ValueError, match=rf"whole sequence {layout}.*single step.*unsqueeze"):
        net(torch.rand(*step))


def test_batch_first_takes_and_returns_batch_major_like_nn_rnn():
    torch.manual_seed(0)
    layers = [nn.Conv2d(1, 3, 3), snn.Leaky(beta=0.8, init_hidden=True), nn.Flatten(),
              nn.Linear(27, 4), snn.Leaky(beta=0.8, init_hidden=True)]
    time_major = snx.SpikingSequential(*layers)
    batch_first = snx.SpikingSequential(*layers, batch_first=True)
    x = torch.rand(6, 2, 1, 5, 5) * 2                   # [T, B, ...]
    out = batch_first(x.transpose(0, 1))
    assert out.shape == (2, 6, 4)
    torch.testing.assert_close(out, time_major(x).transpose(0, 1))
    assert "batch_first=True" in repr(batch_first)
    assert batch_first.state_dict().keys() == time_major.state_dict().keys()
    with pytest.raises(ValueError, match="batch_first"):
        snx.SpikingSequential(nn.Linear(2, 2), batch_first=1)


def test_linear_first_still_takes_extra_feature_dims():
    net = snx.SpikingSequential(nn.Linear(3, 2), snn.Leaky(beta=0.5, init_hidden=True))
    assert net(torch.rand(4, 2, 5, 3)).shape == (4, 2, 5, 2)


def _conv_bn_net():
    torch.manual_seed(1)
    return snx.SpikingSequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        snn.Leaky(beta=0.9, init_hidden=True, spike_grad=snx.surrogate.atan()), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
        snn.Leaky(beta=0.9, init_hidden=True, spike_grad=snx.surrogate.atan())).double()


def test_time_constant_input_runs_stateless_layers_once():
    """direct() returns a stride-0 view: the same spikes, gradients and batch statistics."""
    image = torch.rand(16, 1, 8, 8, dtype=torch.float64)
    results = []
    for x in (snx.functional.direct(image, 5), snx.functional.direct(image, 5).contiguous()):
        net = _conv_bn_net()
        calls: list[int] = []
        net[0].register_forward_hook(lambda mod, inp, out, calls=calls: calls.append(len(inp[0])))
        out = net(x)
        (out * torch.linspace(0, 1, out.numel()).view_as(out)).sum().backward()
        results.append((out, net[0].weight.grad, net[1].running_mean, net[1].running_var, calls))
    (out_a, grad_a, mean_a, var_a, calls_a), (out_b, grad_b, mean_b, var_b, calls_b) = results
    assert calls_a == [16] and calls_b == [80]          # one step instead of T = 5
    assert out_a.sum() > 0
    torch.testing.assert_close(out_a, out_b)
    torch.testing.assert_close(grad_a, grad_b)
    torch.testing.assert_close(mean_a, mean_b)
    n = 16 * 8 * 8                                      # Bessel's correction over one step
    bessel = (n / (n - 1)) / (5 * n / (5 * n - 1))
    unbiased = (var_a - 0.9) / (var_b - 0.9)            # running_var starts at 1, momentum 0.1
    torch.testing.assert_close(unbiased, torch.full_like(unbiased, bessel))


def test_in_place_layers_never_write_to_a_time_constant_input():
    image = torch.rand(2, 3) - 0.5
    before = image.clone()
    net = snx.SpikingSequential(nn.ReLU(inplace=True), nn.Linear(3, 2),
                                snn.Leaky(beta=0.9, init_hidden=True))
    net(snx.functional.direct(image, 4))
    torch.testing.assert_close(image, before)


@pytest.mark.parametrize("first", ["neuron", "linear"])
def test_time_constant_input_gradient_reaches_the_image(first):
    """A neuron fed the same step T times sums its T input gradients, as the sequence would."""
    torch.manual_seed(2)
    layers = [nn.Linear(3, 3), snn.Leaky(beta=0.7, init_hidden=True,
                                         spike_grad=snx.surrogate.atan())]
    if first == "neuron":
        layers = [snn.Leaky(beta=0.7, init_hidden=True, spike_grad=snx.surrogate.atan()),
                  *layers]
    net = snx.SpikingSequential(*layers).double()
    grads = []
    for materialise in (False, True):
        image = torch.linspace(0.1, 2.0, 12, dtype=torch.float64).view(4, 3).requires_grad_()
        x = snx.functional.direct(image, 6)
        out = net(x.contiguous() if materialise else x)
        (out * torch.linspace(0, 1, out.numel()).view_as(out)).sum().backward()
        grads.append((out, image.grad))
    assert grads[0][0].sum() > 0 and grads[0][1].abs().sum() > 0
    torch.testing.assert_close(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1])


def test_time_constant_input_through_stateless_layers_only():
    net = snx.SpikingSequential(nn.Flatten(), nn.Linear(4, 2))
    out = net(snx.functional.direct(torch.rand(3, 2, 2), 5))
    assert out.shape == (5, 3, 2)
