"""Mixed precision: under bf16 autocast the rules' spikes and gradients stay those of float32.

The reference is an independent float32 run of the same network whose synaptic currents are
rounded to bfloat16 (what a bf16 matmul returns): with the neurons kept in float32, spikes must
then agree exactly and gradients up to bfloat16's rounding in the backward matmuls.
"""

import dataclasses
import itertools
import json

import pytest
import snntorch as snn
import torch
from tiny import TINY
from torch import nn
from torch._dynamo.utils import counters

import snntorch_ext as snx
from snntorch_ext.engine import RunError, train
from snntorch_ext.engine.precision import Precision
from snntorch_ext.kernels import plan

T, B, N_IN, N_HID, N_OUT = 8, 4, 12, 16, 5

RULES = {
    "bpsa+bpta": lambda: snx.BPSTALeaky(beta=0.9, threshold=0.5, init_hidden=True),
    "bpsa": lambda: snx.BPSTALeaky(beta=0.9, threshold=0.5, temporal=False, init_hidden=True),
    "msg": lambda: snx.MSGLeaky(beta=0.5, threshold=0.5, init_hidden=True),
    "ssl-psp": lambda: snx.PSPLeaky(threshold=0.5, init_hidden=True),
    "stbp": lambda: snn.Leaky(beta=0.9, threshold=0.5, init_hidden=True,
                              spike_grad=snx.surrogate.rectangular(1.0)),
}


class RoundCurrent(nn.Module):
    """Rounds a float32 current to bfloat16 and back (forward only), like a bf16 matmul."""

    def forward(self, x):
        return x + (x.bfloat16().float() - x).detach()


def _net(make, rounded):
    torch.manual_seed(0)
    current = RoundCurrent if rounded else nn.Identity
    net = snx.SpikingSequential(nn.Linear(N_IN, N_HID), current(), make(),
                                nn.Linear(N_HID, N_OUT), current(), make())
    with torch.no_grad():
        net[3].weight.mul_(3)  # so that the output layer fires
    return net


def _run(net, x, autocast):
    snx.utils.reset(net)
    torch.manual_seed(2)  # the same gradient masks of MSG in both runs
    x = x.clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = net(x)
    spikes = out.float()
    (spikes * torch.linspace(-1, 1, N_OUT)).sum().backward()
    grads = {name: p.grad.clone() for name, p in net.named_parameters() if p.grad is not None}
    return spikes.detach(), x.grad, grads


@pytest.mark.parametrize("rule", sorted(RULES))
def test_bf16_spikes_and_gradients_match_float32(rule):
    torch.manual_seed(1)
    x = (torch.rand(T, B, N_IN) * 4).bfloat16().float()  # representable in bf16
    low = _net(RULES[rule], rounded=False)
    with torch.no_grad():  # weights representable in bf16, so only currents are rounded
        for p in low.parameters():
            p.copy_(p.bfloat16().float())
    Precision("bf16", torch.device("cpu")).keep_neurons_float32(low)
    ref = _net(RULES[rule], rounded=True)
    ref.load_state_dict(low.state_dict())

    spk_low, gx_low, g_low = _run(low, x, autocast=True)
    spk_ref, gx_ref, g_ref = _run(ref, x, autocast=False)
    assert spk_ref.sum() > 0, "the test needs spikes"
    assert torch.equal(spk_low, spk_ref)
    assert gx_ref.abs().sum() > 0, "the test needs a gradient"
    torch.testing.assert_close(gx_low, gx_ref, rtol=3e-2, atol=2e-2 * gx_ref.abs().max())
    assert g_low.keys() == g_ref.keys() and g_ref
    for name, grad in g_low.items():
        torch.testing.assert_close(grad, g_ref[name], rtol=3e-2,
                                   atol=2e-2 * g_ref[name].abs().max(), msg=name)


def test_neurons_run_in_float32_under_autocast():
    net = _net(RULES["bpsa+bpta"], rounded=False)
    Precision("bf16", torch.device("cpu")).keep_neurons_float32(net)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(torch.rand(T, B, N_IN))
    assert net[0](torch.rand(B, N_IN)).dtype == torch.float32  # Linear alone: no autocast here
    assert out.dtype == torch.float32 and net[2].mem.dtype == torch.float32
    assert not isinstance(plan(net[2]), str), "the neurons keep their multi-step kernel"


def test_neurons_outside_spiking_sequential_run_in_float32_under_autocast():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(N_IN, N_HID), snn.Leaky(beta=0.5, init_hidden=True))
    Precision("bf16", torch.device("cpu")).keep_neurons_float32(net)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(torch.rand(B, N_IN))
    assert out.dtype == torch.float32 and net[1].mem.dtype == torch.float32


def test_bf16_run_is_recorded(tmp_path, data_root):
    summary = train(dataclasses.replace(TINY, epochs=1), out=tmp_path / "run",
                    data_root=data_root, precision="bf16", progress=False)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["precision"] == "bf16" and run["compile"] is False
    assert summary["precision"] == "bf16" and 0 < summary["firing_rate"] < 1
    assert summary["test_acc"] > 0.1


def test_bad_precision_and_old_torch(tmp_path, monkeypatch):
    with pytest.raises(RunError, match="precision must be one of 32, bf16, fp16, got '16'"):
        train(TINY, out=tmp_path / "r", precision="16")
    with pytest.raises(RunError, match="fp16 needs CUDA"):
        train(TINY, out=tmp_path / "r", device="cpu", precision="fp16")
    monkeypatch.setattr(torch, "__version__", "1.13.1")
    with pytest.raises(RunError, match="--compile needs PyTorch 2.0 or newer, this is 1.13.1"):
        train(TINY, out=tmp_path / "r", compile=True)
    assert not (tmp_path / "r").exists()


def _mixed_neurons():
    """Neurons for ``stbp_cnn`` alternating between one a kernel runs and one run per step."""
    kinds = itertools.cycle([
        lambda: snn.Leaky(beta=0.2, threshold=0.5, init_hidden=True,
                          spike_grad=snx.surrogate.rectangular(1.0)),
        lambda: snn.Leaky(beta=0.2, threshold=0.5, init_hidden=True),  # snnTorch's arctan
    ])
    return lambda: next(kinds)()


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("precision", ["32", "bf16"])
def test_compiled_training_step_traces_one_graph_per_state(precision, device):
    """Under bf16 autocast, convolutions give bfloat16 and neurons float32: the compiled
    network must still be one graph (a second one once the neurons hold state), without graph
    breaks, and never recompile after the warm-up."""
    torch.manual_seed(0)
    net = snx.models.stbp_cnn(1, 10, neuron=_mixed_neurons(), size=12, channels=4, hidden=16)
    net = net.to(device)
    p = Precision(precision, torch.device(device))
    p.keep_neurons_float32(net)
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(net, backend="aot_eager")

    def step():
        with p.autocast():
            out = compiled(torch.rand(4, 3, 1, 12, 12, device=device))
        out.float().sum().backward()
        return out

    try:
        step(), step()
        with torch._dynamo.config.patch(error_on_recompile=True):
            assert step().dtype == torch.float32
        assert not counters["graph_break"], dict(counters["graph_break"])
        assert counters["stats"]["unique_graphs"] <= 2
    finally:
        torch._dynamo.reset()
