"""Every surrogate and neuron pickles and saves whole; the MSG recipes' surrogate keeps dtypes."""

import io
import pickle

import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_ext as snx
from snntorch_ext.recipes.msg import masked_atan

S = snx.surrogate
SURROGATES = {
    "rectangular": lambda: S.rectangular(width=0.5),
    "bpsa": lambda: S.bpsa(threshold=0.5),
    "piecewise_linear": lambda: S.piecewise_linear(alpha=2.0),
    "atan": lambda: S.atan(alpha=2.0),
    "masked": lambda: S.masked(p=0.5),
    "masked_rectangular": lambda: S.masked(S.rectangular(), p=0.3),
    "masked_generator": lambda: S.masked(generator=torch.Generator().manual_seed(0)),
    "masked_atan": lambda: masked_atan(alpha=2.0, p=0.5),
}
NEURONS = {
    "BPSTALeaky": lambda: snx.BPSTALeaky(),
    "BPSTALeaky_spatial_off": lambda: snx.BPSTALeaky(spatial=False),
    "BPSTALeaky_baseline": lambda: snx.BPSTALeaky(spatial=False, temporal=False),
    "MSGLeaky": lambda: snx.MSGLeaky(),
    "PSPLeaky": lambda: snx.PSPLeaky(),
    "Leaky_rectangular": lambda: snn.Leaky(beta=0.9, spike_grad=S.rectangular()),
    "Leaky_masked_rectangular": lambda: snn.Leaky(beta=0.9,
                                                  spike_grad=S.masked(S.rectangular())),
}


def _round_trips(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return pickle.loads(pickle.dumps(obj)), torch.load(buffer, weights_only=False)


def _spikes_and_grad(spike_grad, z):
    z = z.clone().requires_grad_(True)
    torch.manual_seed(0)
    spk = spike_grad(z)
    spk.sum().backward()
    return spk, z.grad


@pytest.mark.parametrize("name", SURROGATES)
def test_every_surrogate_pickles_with_its_behaviour(name):
    z = torch.linspace(-1, 1, 21, dtype=torch.float64)
    for copy in _round_trips(SURROGATES[name]()):
        fresh = SURROGATES[name]()                  # a generator's state is pickled with it
        assert repr(copy) == repr(fresh)
        for got, expected in zip(_spikes_and_grad(copy, z), _spikes_and_grad(fresh, z),
                                 strict=True):
            assert torch.equal(got, expected)


@pytest.mark.parametrize("name", NEURONS)
def test_every_neuron_pickles_whole_with_its_behaviour(name):
    x = torch.rand(3, 4, dtype=torch.float64) * 2
    for copy in _round_trips(NEURONS[name]()):
        assert torch.equal(copy(x)[0], NEURONS[name]()(x)[0])


def test_a_network_holding_rectangular_saves_whole():
    net = snx.SpikingSequential(nn.Linear(3, 2), snx.BPSTALeaky(spatial=False, init_hidden=True))
    x = torch.rand(4, 2, 3)
    for copy in _round_trips(net):
        assert torch.equal(copy(x), net(x))          # SpikingSequential resets its neurons


def test_masked_atan_keeps_dtype_and_snntorch_gradient():
    z = torch.linspace(-1, 1, 21, dtype=torch.float64)
    spk, grad = _spikes_and_grad(masked_atan(alpha=2.0, p=0.0), z)
    assert spk.dtype == grad.dtype == torch.float64
    _, reference = _spikes_and_grad(snn.surrogate.atan(alpha=2.0), z.float())
    torch.testing.assert_close(grad.float(), reference)
    spk, grad = _spikes_and_grad(masked_atan(alpha=2.0, p=0.5), z)
    assert spk.dtype == grad.dtype == torch.float64


def test_per_step_dropout_pickles_and_follows_snntorch_resets_after_loading():
    drop = snx.TimeSharedDropout(0.5, per_step=True)
    drop(torch.ones(2, 4))
    for copy in _round_trips(drop):
        assert torch.equal(copy.mask, drop.mask)
        copy.reset_mask()
        assert copy.mask.numel() == 0
