"""Choosing the backend: explicit ones refuse with a reason, "auto" falls back per neuron."""

from __future__ import annotations

import logging
import sys
import types

import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_ext as snx
from snntorch_ext.kernels import backend_for, function, plan
from snntorch_ext.kernels import lif as lif_ref
from snntorch_ext.kernels import psp as psp_ref


def test_unknown_backend_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="backend must be one of .* got 'cuda'"):
        snx.SpikingSequential(nn.Linear(2, 2), backend="cuda")


@pytest.mark.parametrize(("neuron", "reason"), [
    (snn.Leaky(beta=0.9, init_hidden=True), "has no kernel spec"),
    (snx.BPSTALeaky(learn_beta=True, init_hidden=True), "beta learns"),
    (snx.MSGLeaky(learn_threshold=True, init_hidden=True), "threshold learns"),
    (snx.PSPLeaky(reset_delay=False, init_hidden=True), "reset_delay=False"),
    (snn.Leaky(beta=0.9, inhibition=True, spike_grad=snx.surrogate.atan()), "inhibition"),
    (snx.BPSTALeaky(spatial=False, spike_grad=snx.surrogate.masked()), "two masks"),
    (snn.Leaky(beta=torch.rand(3), spike_grad=snx.surrogate.atan()), "beta is not a scalar"),
    (snn.Synaptic(alpha=0.5, beta=0.5), "has no multi-step kernel"),
])
def test_ineligible_neurons(neuron: nn.Module, reason: str, caplog) -> None:
    assert reason in plan(neuron)
    x = torch.ones(3, 2, 3)
    with pytest.raises(ValueError, match=f"backend='fused' cannot run .*{reason}"):
        backend_for(neuron, x, "fused")
    with caplog.at_level(logging.DEBUG, logger="snntorch_ext.kernels"):
        assert backend_for(neuron, x, "auto") == ("torch", None)
    assert reason in caplog.text


def test_per_step_hooks_keep_a_neuron_per_step() -> None:
    neuron = snx.MSGLeaky(init_hidden=True)
    neuron.register_forward_hook(lambda *args: None)
    assert "forward hooks" in plan(neuron)


def test_triton_on_cpu_is_refused_with_the_reason(monkeypatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="backend='triton' cannot run MSGLeaky: .*CUDA"):
        backend_for(snx.MSGLeaky(), torch.ones(2, 3), "triton")
    assert backend_for(snx.MSGLeaky(), torch.ones(2, 3), "auto")[0] == "fused"
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # "auto" never picks the (slow) interpreter
    assert backend_for(snx.MSGLeaky(), torch.ones(2, 3), "auto")[0] == "fused"


def test_auto_mixes_backends_and_matches_per_step() -> None:
    """snnTorch's own surrogate runs per step next to fused neurons; outputs are identical."""
    def build(backend: str) -> snx.SpikingSequential:
        torch.manual_seed(0)
        return snx.SpikingSequential(
            nn.Linear(3, 8), snn.Leaky(beta=0.9, init_hidden=True),
            nn.Linear(8, 4), snx.BPSTALeaky(init_hidden=True), backend=backend)

    x = torch.rand(5, 2, 3) * 3
    assert torch.equal(build("auto")(x), build("torch")(x))
    with pytest.raises(ValueError, match="cannot run Leaky"):
        build("fused")(x)


def test_environment_variable_sets_the_default(monkeypatch) -> None:
    monkeypatch.setenv("SNNTORCH_EXT_BACKEND", "torch")
    assert snx.SpikingSequential(nn.Linear(2, 2)).backend == "torch"
    assert snx.SpikingSequential(nn.Linear(2, 2), backend="fused").backend == "fused"
    monkeypatch.delenv("SNNTORCH_EXT_BACKEND")
    assert snx.SpikingSequential(nn.Linear(2, 2)).backend == "auto"


def test_firing_rates_count_fused_neurons_like_per_step_ones() -> None:
    """FiringRates keeps the fast path and counts the same spikes (PSPLeaky's, not its PSP)."""
    rates = []
    for backend in ("torch", "fused"):
        torch.manual_seed(0)
        net = snx.SpikingSequential(
            nn.Linear(3, 8), snx.PSPLeaky(threshold=0.3, init_hidden=True),
            nn.Linear(8, 4), snx.MSGLeaky(init_hidden=True), backend=backend)
        with snx.metrics.FiringRates(net) as counter:
            net(torch.rand(6, 2, 3) * 3)
            if backend == "fused":
                assert all(not isinstance(plan(m), str) for m in net[1::2])
        rates.append(counter.per_layer())
    assert rates[0] == rates[1]
    assert 0 < sum(rates[0].values())


def test_triton_without_the_package_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(function, "_LOADED", dict(function._LOADED))
    for name in ("snntorch_ext.kernels.triton", "snntorch_ext.kernels.triton.lif"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if absent
    with pytest.raises(ValueError, match="triton is not available"):
        backend_for(snx.BPSTALeaky(), torch.ones(2, 3), "triton")


def test_triton_backend_calls_the_twins_with_floats(monkeypatch) -> None:
    """The "triton" wiring, with the torch recursions standing in for the twins: python-float
    records, the one-pass PSP pair when the twin module has it, and per-step values."""
    calls = []

    def lif_psp_forward(x, mem0, psp0, p, pp):
        calls.append((p, pp))
        spk, mem = lif_ref.lif_forward(x, mem0, p)
        return spk, psp_ref.psp_forward(spk, psp0, pp), mem

    def lif_psp_backward(grad_spk, grad_psp, grad_mem, mem, mem0, p, pp, sg, keep):
        from_psp, grad_psp0 = psp_ref.psp_backward(grad_psp, pp)
        if grad_spk is not None:
            from_psp = from_psp + grad_spk
        grad_x, grad_mem0 = lif_ref.lif_backward(from_psp, grad_mem, mem, mem0, p, sg, keep)
        return grad_x, grad_mem0, grad_psp0

    twin_psp = types.SimpleNamespace(psp_forward=psp_ref.psp_forward,
                                     psp_backward=psp_ref.psp_backward,
                                     lif_psp_forward=lif_psp_forward,
                                     lif_psp_backward=lif_psp_backward)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(function, "_LOADED", {**function._LOADED, ("triton", "lif"): lif_ref,
                                              ("triton", "psp"): twin_psp})
    outputs = []
    for backend in ("torch", "triton"):
        torch.manual_seed(0)
        net = snx.SpikingSequential(nn.Linear(3, 6), snx.PSPLeaky(threshold=0.3, init_hidden=True),
                                    nn.Linear(6, 4), snx.BPSTALeaky(init_hidden=True),
                                    backend=backend)
        x = torch.rand(5, 2, 3) * 3
        out = net(x)
        out.sum().backward()
        outputs.append((out, net[0].weight.grad))
    assert torch.equal(outputs[0][0], outputs[1][0])
    torch.testing.assert_close(outputs[0][1], outputs[1][1])
    assert calls and all(isinstance(v, (float, str)) for p, pp in calls for v in (*p, *pp))
