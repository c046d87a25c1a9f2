"""PSPLeaky's PSP behaves like snn.Synaptic's ``syn`` under every snnTorch habit."""

import copy
import pickle

import pytest
import snntorch as snn
import snntorch.functional
import snntorch.utils
import torch
from torch import nn

import snntorch_ext as snx


def _run(lif, x, mem=None, psp=None):
    """init_hidden=False loop with explicit state; returns the PSPs and the final state."""
    psps = []
    for x_t in x.unbind(0):
        _, psp, mem = lif(x_t, mem, psp)
        psps.append(psp)
    return torch.stack(psps), mem, psp


def test_psp_continues_when_mem_is_detached_or_cloned():
    torch.manual_seed(0)
    x = torch.rand(8, 2, 3) * 3
    reference, _, _ = _run(snx.PSPLeaky(), x)
    lif = snx.PSPLeaky()
    head, mem, psp = _run(lif, x[:4])
    tail, _, _ = _run(lif, x[4:], mem.detach(), psp.detach())  # truncated BPTT, both states
    assert torch.equal(torch.cat([head, tail]), reference)
    lif = snx.PSPLeaky()
    head, mem, _ = _run(lif, x[:4])
    with pytest.warns(UserWarning, match="no `psp`"):
        _, psp, mem = lif(x[4], mem.clone())                  # mem alone: the stored PSP goes on
    assert torch.equal(psp, reference[4])


def test_one_module_runs_two_interleaved_sequences():
    torch.manual_seed(1)
    xa, xb = torch.rand(6, 2, 3) * 3, torch.rand(6, 2, 3) * 3
    solo_a, _, _ = _run(snx.PSPLeaky(), xa)
    solo_b, _, _ = _run(snx.PSPLeaky(), xb)
    zeros = (torch.zeros(2, 3), torch.zeros(2, 3))
    lif, state_a, state_b, out_a, out_b = snx.PSPLeaky(), zeros, zeros, [], []
    for xa_t, xb_t in zip(xa.unbind(0), xb.unbind(0), strict=True):
        _, psp, mem = lif(xa_t, *state_a)
        state_a = (mem, psp)
        out_a.append(psp)
        _, psp, mem = lif(xb_t, *state_b)
        state_b = (mem, psp)
        out_b.append(psp)
    assert torch.equal(torch.stack(out_a), solo_a) and torch.equal(torch.stack(out_b), solo_b)


def _tbptt_net():
    torch.manual_seed(2)
    return nn.Sequential(nn.Linear(3, 5), snx.PSPLeaky(init_hidden=True), nn.Linear(5, 2),
                         snn.Leaky(beta=0.5, init_hidden=True, output=True,
                                   spike_grad=snx.surrogate.atan()))


def test_snntorch_detach_hidden_detaches_the_psp_in_hand_written_tbptt():
    net, x = _tbptt_net(), torch.rand(8, 4, 3) * 3
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    snntorch.utils.reset(net)
    for chunk in x.split(4):
        spk = torch.stack([net(x_t)[0] for x_t in chunk.unbind(0)])
        optimizer.zero_grad()
        (net[1].psp.sum() + spk.sum()).backward()   # would go through the last chunk's graph
        optimizer.step()
        snn.Leaky.detach_hidden()
        assert net[1].psp.grad_fn is None and net[1].spk.grad_fn is None


@pytest.mark.filterwarnings("ignore:The module snntorch.backprop:DeprecationWarning")
def test_snntorch_backprop_tbptt_trains_a_psp_network():
    import snntorch.backprop

    net, x = _tbptt_net(), torch.rand(4, 3) * 3
    loss = snntorch.backprop.TBPTT(
        net, [(x, torch.tensor([0, 1, 0, 1]))], torch.optim.SGD(net.parameters(), lr=0.1),
        snntorch.functional.mse_count_loss(), num_steps=8, time_var=False, K=4)
    assert torch.isfinite(loss)


@pytest.mark.parametrize("reset", ["snntorch", "snx", "leaky_class", "psp_class"])
def test_no_graph_is_kept_after_a_reset(reset):
    net, x = _tbptt_net(), torch.rand(5, 2, 3) * 3
    for x_t in x.unbind(0):
        net(x_t)
    assert net[1].psp.grad_fn is not None
    {"snntorch": lambda: snntorch.utils.reset(net), "snx": lambda: snx.utils.reset(net),
     "leaky_class": snn.Leaky.reset_hidden, "psp_class": snx.PSPLeaky.reset_hidden}[reset]()
    lif = net[1]
    assert all(t.grad_fn is None for t in (lif.mem, lif.psp, lif.spk))
    assert all(float(t.abs().sum()) == 0 for t in (lif.mem, lif.psp, lif.spk))
    assert torch.equal(copy.deepcopy(lif).psp, lif.psp)
    assert torch.equal(pickle.loads(pickle.dumps(lif)).psp, lif.psp)


def test_registered_states_are_not_submodules():
    lif = snx.PSPLeaky(init_hidden=True)
    assert list(lif.modules()) == [lif]
    assert set(lif.state_dict()) == {"threshold", "graded_spikes_factor", "reset_mechanism_val",
                                     "beta", "tau_s"}
    assert snx.utils.neurons(nn.Sequential(lif)) == [lif]
