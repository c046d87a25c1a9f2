"""The multi-step kernels against the per-step ``forward`` of every neuron, in float64."""

from __future__ import annotations

import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_ext as snx
from snntorch_ext.kernels import plan, run_neuron
from snntorch_ext.utils import reset

S = snx.surrogate


def _gen(seed: int = 3) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


NEURONS = {
    "bpsta-baseline": lambda: snx.BPSTALeaky(spatial=False, temporal=False, init_hidden=True),
    "bpsa": lambda: snx.BPSTALeaky(spatial=True, temporal=False, init_hidden=True),
    "bpsa+bpta": lambda: snx.BPSTALeaky(init_hidden=True),
    "bpsta-baseline+bpta": lambda: snx.BPSTALeaky(spatial=False, alpha=0.3, init_hidden=True),
    "msg": lambda: snx.MSGLeaky(spike_grad=S.masked(p=0.5, generator=_gen()), init_hidden=True),
    "msg-rescale": lambda: snx.MSGLeaky(
        spike_grad=S.masked(S.atan(), p=0.3, rescale=True, generator=_gen()), init_hidden=True),
    "msg-unmasked": lambda: snx.MSGLeaky(spike_grad=S.piecewise_linear(), init_hidden=True),
    "psp": lambda: snx.PSPLeaky(init_hidden=True),
    "psp-output": lambda: snx.PSPLeaky(init_hidden=True, output=True,
                                       spike_grad=S.rectangular(width=0.5)),
    "leaky-rect-zero": lambda: snn.Leaky(beta=0.8, reset_mechanism="zero", init_hidden=True,
                                         spike_grad=S.rectangular()),
    "leaky-pl-subtract": lambda: snn.Leaky(beta=0.8, reset_mechanism="subtract",
                                           init_hidden=True, spike_grad=S.piecewise_linear()),
    "leaky-atan-none": lambda: snn.Leaky(beta=0.7, reset_mechanism="none", init_hidden=True,
                                         spike_grad=S.atan(alpha=3.0)),
    "leaky-bpsa": lambda: snn.Leaky(beta=0.9, reset_mechanism="zero", init_hidden=True,
                                    spike_grad=S.bpsa(threshold=1.0)),
    "leaky-masked-atan": lambda: snn.Leaky(beta=0.9, init_hidden=True, graded_spikes_factor=2.0,
                                           spike_grad=S.masked(S.atan(), generator=_gen())),
    "leaky-no-init-hidden": lambda: snn.Leaky(beta=0.9, spike_grad=S.rectangular()),
}


def _first(output):
    return output[0] if isinstance(output, tuple) else output


def _run(neuron: nn.Module, x: torch.Tensor, mem0: torch.Tensor, psp0: torch.Tensor,
         fused: bool):
    """Outputs, final state and gradients of (input, initial membrane, initial PSP)."""
    x = x.clone().requires_grad_()
    mem0, psp0 = mem0.clone().requires_grad_(), psp0.clone().requires_grad_()
    reset(neuron)
    neuron.mem = mem0 * 1.0
    if isinstance(neuron, snx.PSPLeaky):
        neuron.psp = psp0 * 1.0
        neuron._mem_out = neuron.mem
    if fused:
        out = run_neuron(neuron, x, "fused", plan(neuron))
    else:
        out = torch.stack([_first(neuron(x_t)) for x_t in x.unbind(0)])
    state = [neuron.mem] + ([neuron.psp, neuron.spk] if isinstance(neuron, snx.PSPLeaky) else [])
    weights = torch.Generator().manual_seed(7)
    loss = (out * torch.randn(out.shape, generator=weights, dtype=out.dtype)).sum()
    for value in state[:2]:
        loss = loss + (value * torch.randn(value.shape, generator=weights,
                                           dtype=value.dtype)).sum()
    loss.backward()
    grads = [x.grad, mem0.grad]
    if isinstance(neuron, snx.PSPLeaky):
        grads.append(psp0.grad)
    return out.detach(), [s.detach() for s in state], grads


@pytest.mark.parametrize("name", list(NEURONS))
def test_fused_equals_per_step(name: str) -> None:
    torch.manual_seed(0)
    x = torch.rand(9, 3, 11, dtype=torch.float64) * 1.6 - 0.2
    mem0 = torch.rand(3, 11, dtype=torch.float64)
    psp0 = torch.rand(3, 11, dtype=torch.float64)
    out, state, grads = _run(NEURONS[name](), x, mem0, psp0, fused=False)
    out_f, state_f, grads_f = _run(NEURONS[name](), x, mem0, psp0, fused=True)
    assert out.std() > 0  # not all silent (nor all firing): a real test
    assert torch.equal(out_f, out)
    for value, expected in zip(state_f, state, strict=True):
        assert torch.equal(value, expected)
    for grad, expected in zip(grads_f, grads, strict=True):
        assert expected.abs().max() > 0
        torch.testing.assert_close(grad, expected, rtol=0, atol=1e-10)


def test_msg_masks_follow_the_generator() -> None:
    """Two MSG layers sharing one generator: the same masks on both paths, and other masks
    (other gradients) from another seed, so the comparison above can fail."""
    def build(seed: int, backend: str) -> snx.SpikingSequential:
        torch.manual_seed(0)
        masked = S.masked(p=0.5, generator=_gen(seed))
        return snx.SpikingSequential(
            nn.Linear(5, 16), snx.MSGLeaky(spike_grad=masked, init_hidden=True),
            nn.Linear(16, 4), snx.MSGLeaky(spike_grad=masked, init_hidden=True),
            backend=backend).double()

    x = torch.rand(6, 2, 5, dtype=torch.float64) * 4

    def grads(seed: int, backend: str) -> list[torch.Tensor]:
        net = build(seed, backend)
        net(x).sum().backward()
        return [p.grad for p in net.parameters()]

    per_step, fused, other = grads(1, "torch"), grads(1, "fused"), grads(2, "fused")
    for a, b in zip(fused, per_step, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    assert any(not torch.allclose(a, b) for a, b in zip(other, per_step, strict=True))


@pytest.mark.parametrize("constant", [False, True])
def test_network_backends_agree(constant: bool) -> None:
    """A network of every neuron: same outputs, parameter gradients and final states; also with
    a time-constant input (one step expanded over time)."""
    def build(backend: str) -> snx.SpikingSequential:
        torch.manual_seed(0)
        net = snx.SpikingSequential(
            nn.Linear(6, 12), snx.BPSTALeaky(init_hidden=True),
            nn.Linear(12, 12), snx.PSPLeaky(tau_m=2.0, threshold=0.3, init_hidden=True),
            nn.Linear(12, 12), snn.Leaky(beta=0.5, init_hidden=True, spike_grad=S.atan()),
            nn.Linear(12, 4), snx.MSGLeaky(spike_grad=S.piecewise_linear(), init_hidden=True),
            backend=backend).double()
        with torch.no_grad():
            for layer in net[::2]:
                layer.weight.mul_(3.0)
        return net

    torch.manual_seed(1)
    x = torch.rand(8, 3, 6, dtype=torch.float64) * 3
    if constant:
        x = x[0].expand(8, 3, 6)
    results = []
    for backend in ("torch", "fused"):
        net = build(backend)
        out = net(x)
        out.sum().backward()
        results.append((out, [p.grad for p in net.parameters()], net[3].psp, net[7].mem))
    (out, grads, psp, mem), (out_f, grads_f, psp_f, mem_f) = results
    assert 0 < out.count_nonzero() < out.numel()
    assert torch.equal(out_f, out) and torch.equal(psp_f, psp) and torch.equal(mem_f, mem)
    for grad, expected in zip(grads_f, grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=0, atol=1e-10)


def test_state_carries_over_between_calls() -> None:
    """Without a reset the second call starts from the state the first left, on both paths."""
    torch.manual_seed(0)
    x = torch.rand(2, 5, 3, 4, dtype=torch.float64) * 2
    outputs = []
    for fused in (False, True):
        neuron = snx.PSPLeaky(tau_m=3.0, threshold=0.8, init_hidden=True)
        reset(neuron)
        seq = []
        for chunk in x:
            if fused:
                seq.append(run_neuron(neuron, chunk, "fused", plan(neuron)))
            else:
                seq.append(torch.stack([neuron(x_t) for x_t in chunk.unbind(0)]))
        outputs.append(torch.cat(seq))
    assert torch.equal(outputs[0], outputs[1])


@pytest.mark.parametrize("name", ["bpsa+bpta", "psp", "msg"])
def test_gradient_through_the_final_state_only(name: str) -> None:
    """A loss on the final membrane alone: the spikes' gradient is None inside the kernel."""
    x = torch.rand(6, 2, 5, dtype=torch.float64) * 1.5
    grads = []
    for fused in (False, True):
        neuron = NEURONS[name]()
        reset(neuron)
        xg = x.clone().requires_grad_()
        if fused:
            run_neuron(neuron, xg, "fused", plan(neuron))
        else:
            for x_t in xg.unbind(0):
                neuron(x_t)
        neuron.mem.sum().backward()
        grads.append(xg.grad)
    assert grads[0].abs().max() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=0, atol=1e-10)


def test_one_pass_psp_backward_equals_the_two_recursions() -> None:
    """lif_psp_backward (one pass) = psp_backward, then lif_backward with the summed error."""
    from snntorch_ext.kernels import lif_backward, lif_psp_backward, lif_psp_forward, psp_backward

    neuron = snx.PSPLeaky(tau_m=3.0, threshold=0.6)
    p, sg, pp = plan(neuron)
    torch.manual_seed(0)
    x, mem0, psp0 = torch.rand(7, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), \
        torch.rand(4, dtype=torch.float64)
    spk, psp, mem = lif_psp_forward(x, mem0, psp0, p, pp)
    grad_spk, grad_psp, grad_mem = (torch.randn(7, 4, dtype=torch.float64) for _ in range(3))
    one = lif_psp_backward(grad_spk, grad_psp, grad_mem, mem, mem0, p, pp, sg, None)
    from_psp, grad_psp0 = psp_backward(grad_psp, pp)
    two = (*lif_backward(from_psp + grad_spk, grad_mem, mem, mem0, p, sg, None), grad_psp0)
    assert spk.std() > 0
    for a, b in zip(one, two, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
