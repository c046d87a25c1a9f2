"""Small snnTorch habits: threshold tensors, BPSA's threshold, Voting after output=True,
per-step time-shared dropout."""

import warnings

import pytest
import snntorch as snn
import snntorch.utils
import torch
from torch import nn

import snntorch_ext as snx


@pytest.mark.parametrize("threshold", [torch.tensor([0.5, -1.0]), torch.tensor([0.0]),
                                       torch.tensor(float("nan"))])
def test_msg_leaky_rejects_non_positive_threshold_tensors(threshold):
    with pytest.raises(ValueError, match="threshold"):
        snx.MSGLeaky(threshold=threshold)


def test_msg_leaky_accepts_a_positive_threshold_tensor():
    lif = snx.MSGLeaky(threshold=torch.tensor([0.5, 0.25]))
    spk, _ = lif(torch.ones(3, 2), lif.init_leaky())
    assert spk.shape == (3, 2)


def test_bpsa_warns_once_when_the_neuron_has_another_threshold():
    lif = snn.Leaky(beta=0.9, threshold=1.0, reset_mechanism="zero",
                    spike_grad=snx.surrogate.bpsa(threshold=0.5))
    with pytest.warns(UserWarning, match=r"bpsa\(threshold=0.5\).*threshold 1.0"):
        spk, mem = lif(torch.full((2, 3), 2.0), lif.init_leaky())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lif(torch.full((2, 3), 2.0), mem)                 # once per neuron
        matching = snn.Leaky(beta=0.9, threshold=0.5, reset_mechanism="zero",
                             spike_grad=snx.surrogate.bpsa(threshold=0.5))
        matching(torch.full((2, 3), 2.0), matching.init_leaky())


def test_voting_after_an_output_true_neuron_names_spk_mem():
    net = nn.Sequential(nn.Linear(3, 6), snn.Leaky(beta=0.5, init_hidden=True, output=True),
                        snx.Voting(2, neurons_per_class=3))
    with pytest.raises(ValueError, match=r"\(spk, mem\).*output=True"):
        net(torch.rand(4, 3))


def _per_step(net, x):
    return torch.stack([net(x_t) for x_t in x.unbind(0)])


def test_per_step_dropout_keeps_one_mask_per_sample_across_steps():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Identity(), snx.TimeSharedDropout(0.5, per_step=True))
    x = torch.ones(6, 8, 50)                               # [T, B, F], stepped by hand
    y = _per_step(net, x)
    assert bool((y == y[0]).all())                         # the same mask at every step
    assert not bool((y[0] == y[0, 0]).all())               # but one per sample
    again = _per_step(net, x)
    assert torch.equal(again, y)                           # kept until a reset
    for reset in (lambda: snx.utils.reset(net), snn.Leaky.reset_hidden,
                  lambda: snntorch.utils.reset(nn.Sequential(snn.Leaky(0.5), net)),
                  net[1].reset_mask):
        reset()
        assert not torch.equal(_per_step(net, x), y)


def test_per_step_dropout_in_spiking_sequential_matches_the_sequence_mode():
    x = torch.ones(5, 4, 30)
    for per_step in (False, True):
        torch.manual_seed(1)
        y = snx.SpikingSequential(nn.Identity(), snx.TimeSharedDropout(0.5, per_step=per_step))(x)
        assert bool((y == y[0]).all()) and not bool((y[0] == y[0, 0]).all())
    assert "per_step=True" in repr(snx.TimeSharedDropout(0.5, per_step=True))
    with pytest.raises(ValueError, match="per_step"):
        snx.TimeSharedDropout(0.5, per_step=1)
