"""snx.utils.reset resets every neuron inside the net (nested too) and nothing else."""

import snntorch as snn
import snntorch.utils
import torch
from torch import nn

import snntorch_ext as snx


def _net() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(3, 4), snn.Leaky(beta=0.9, init_hidden=True),
        nn.Sequential(nn.Linear(4, 2), snn.Leaky(beta=0.9, init_hidden=True)),
    )


def _run(net: nn.Module) -> None:
    for _ in range(3):
        net(torch.ones(2, 3))


def _mems(net: nn.Module) -> list[float]:
    return [float(n.mem.detach().abs().sum()) for n in snx.utils.neurons(net)]


def test_reset_clears_nested_neurons():
    net = _net()
    _run(net)
    assert all(m > 0 for m in _mems(net))
    snx.utils.reset(net)
    assert _mems(net) == [0.0, 0.0]
    assert net[1].mem.shape == (2, 4)  # shape kept, like snnTorch's reset_hidden


def test_reset_leaves_other_networks_alone():
    net, other = _net(), _net()
    _run(net)
    _run(other)
    before = _mems(other)
    snx.utils.reset(net)
    assert _mems(other) == before
    assert _mems(net) == [0.0, 0.0]


def test_snntorch_reset_differs_on_both_counts():
    """Documents why snx.utils.reset exists (snnTorch 1.0 behaviour)."""
    net, other = _net(), _net()
    _run(net)
    _run(other)
    snntorch.utils.reset(net)
    assert _mems(other) == [0.0, 0.0]  # snnTorch reset the neurons of another network too

    only_nested = nn.Sequential(nn.Sequential(nn.Linear(3, 2), snn.Leaky(beta=0.9,
                                                                          init_hidden=True)))
    _run(only_nested)
    snntorch.utils.reset(only_nested)
    assert _mems(only_nested)[0] > 0  # snnTorch missed the nested neuron
    snx.utils.reset(only_nested)
    assert _mems(only_nested) == [0.0]


def test_reset_detaches_and_returns_net():
    lif = snn.Leaky(beta=0.5, init_hidden=True)
    lif(torch.ones(1, 2, requires_grad=True))
    assert snx.utils.reset(lif) is lif
    assert not lif.mem.requires_grad and lif.mem.grad_fn is None


def test_reset_covers_extra_hidden_state_of_subclasses():
    class WithTrace(snn.Leaky):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.register_buffer("trace", torch.zeros(0), False)

        def forward(self, input_):
            spk = super().forward(input_)
            self.trace = self.mem + 1
            return spk

    lif = WithTrace(beta=0.5, init_hidden=True)
    lif(torch.ones(2, 2))
    snx.utils.reset(nn.Sequential(lif))
    assert float(lif.trace.abs().sum()) == 0.0
    assert float(lif.beta) == 0.5  # persistent buffers (parameters of the model) are kept
