"""The Triton kernels against the per-step neurons in float64, on the CPU with Triton's interpreter.

Each case runs the per-step neuron module (``snn.Leaky``, ``BPSTALeaky``, ``MSGLeaky``,
``PSPLeaky``) over a sequence in float64 with autograd, and the Triton forward and backward
kernels in float32 (``TRITON_INTERPRET=1``), and compares spikes, membranes, PSPs and the
gradients of the input and the initial state. Inputs are multiples of 1/64 so that no membrane
lands within float32 rounding of the threshold. The ``gpu`` tests run the compiled kernels on
CUDA against the torch recursion of :mod:`snntorch_ext.kernels`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import NamedTuple

import pytest
import snntorch as snn
import torch

import snntorch_ext as snx
from snntorch_ext.surrogate import SurrogateFunction

pytest.importorskip("triton")

PACKAGE = "snntorch_ext.kernels.triton"


class LIF(NamedTuple):  # the fields of kernels.spec.LIFParams
    beta: float
    threshold: float
    reset: str
    gain: float = 1.0
    graded: float = 1.0
    alpha: float = 0.0


class SG(NamedTuple):  # the fields of kernels.spec.SurrogateSpec
    kind: str
    param: float
    grad_fn: object = None
    p: float = 0.0
    scale: float = 1.0
    generator: object = None


class PSP(NamedTuple):  # the fields of kernels.spec.PSPParams
    decay: float
    tau_s: float


def _forget_kernels() -> None:
    for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
        del sys.modules[name]


@contextlib.contextmanager
def _imported(interpret: bool):
    """The kernel modules imported afresh with or without ``TRITON_INTERPRET=1`` (forgotten
    again afterwards, so that each test gets the mode it asks for)."""
    old = os.environ.pop("TRITON_INTERPRET", None)
    if interpret:
        os.environ["TRITON_INTERPRET"] = "1"
    _forget_kernels()
    try:
        yield (importlib.import_module(f"{PACKAGE}.lif"),
               importlib.import_module(f"{PACKAGE}.psp"))
    finally:
        _forget_kernels()
        os.environ.pop("TRITON_INTERPRET", None)
        if old is not None:
            os.environ["TRITON_INTERPRET"] = old


@pytest.fixture
def kernels():
    """The kernels run on the CPU by Triton's interpreter."""
    with _imported(interpret=True) as modules:
        if "Interpreted" not in type(modules[0]._lif_forward_kernel).__name__:
            pytest.skip("this Triton reads TRITON_INTERPRET only when it is imported")
        yield modules


@pytest.fixture
def compiled():
    """The kernels compiled for CUDA."""
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    with _imported(interpret=False) as modules:
        yield modules


def _dyadic(*shape: int, low: float = -1.0, high: float = 1.5, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    steps = torch.randint(int(low * 64), int(high * 64) + 1, shape, generator=gen)
    return steps.double() / 64


class _Masked:
    """A per-step surrogate whose derivative is multiplied by ``keep[t] * scale`` at call t."""

    def __init__(self, base, keep: torch.Tensor, scale: float) -> None:
        self.grad_fn, self.keep, self.scale, self.t = base.grad_fn, keep, scale, 0

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        if not z.requires_grad:  # MSGLeaky's detached reset
            return (z > 0).to(z.dtype)
        keep, self.t = self.keep[self.t] * self.scale, self.t + 1
        return SurrogateFunction.apply(z, lambda z: self.grad_fn(z) * keep)


def _per_step(neuron, x, mem0, psp0=None):
    """Run ``neuron`` (float64) step by step; returns (spk, mem, psp or None) stacked."""
    mem, psp, out = mem0, psp0, []
    for x_t in x.unbind(0):
        if psp0 is None:
            spk, mem = neuron(x_t, mem)
            out.append((spk, mem))
        else:
            spk, psp, mem = neuron(x_t, mem, psp)
            out.append((spk, mem, psp))
    stacked = [torch.stack(seq) for seq in zip(*out, strict=True)]
    return stacked[0], stacked[1], stacked[2] if psp0 is not None else None


def _weights(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float64)


T, B, F = 7, 5, 41  # N = 205 neurons: a partial second block with BLOCK = 128 ... 1024

LIF_CASES = {
    # name: (neuron factory, LIFParams, SurrogateSpec)
    "leaky-zero-rectangular": (
        lambda: snn.Leaky(beta=0.5, threshold=0.5, reset_mechanism="zero",
                          spike_grad=snx.surrogate.rectangular(1.0)),
        LIF(0.5, 0.5, "zero"), SG("rectangular", 1.0)),
    "leaky-subtract-atan": (
        lambda: snn.Leaky(beta=0.75, threshold=0.5, reset_mechanism="subtract",
                          spike_grad=snx.surrogate.atan(2.0)),
        LIF(0.75, 0.5, "subtract"), SG("atan", 2.0)),
    "leaky-none-piecewise": (
        lambda: snn.Leaky(beta=0.5, threshold=0.75, reset_mechanism="none",
                          spike_grad=snx.surrogate.piecewise_linear(2.0)),
        LIF(0.5, 0.75, "none"), SG("piecewise_linear", 2.0)),
    "leaky-graded-bpsa": (
        lambda: snn.Leaky(beta=0.5, threshold=0.5, reset_mechanism="zero",
                          spike_grad=snx.surrogate.bpsa(0.5), graded_spikes_factor=0.5),
        LIF(0.5, 0.5, "zero", graded=0.5), SG("bpsa", 0.5)),
    "bpsta-bpsa-bpta": (
        lambda: snx.BPSTALeaky(beta=0.5, threshold=0.5, alpha=0.8),
        LIF(0.5, 0.5, "zero", alpha=0.8), SG("bpsa", 0.5)),
    "bpsta-bpsa": (
        lambda: snx.BPSTALeaky(beta=0.5, threshold=0.5, temporal=False),
        LIF(0.5, 0.5, "zero"), SG("bpsa", 0.5)),
    "bpsta-baseline": (
        lambda: snx.BPSTALeaky(beta=0.5, threshold=0.5, spatial=False, temporal=False),
        LIF(0.5, 0.5, "zero"), SG("rectangular", 1.0)),
    "bpsta-rectangular-bpta": (
        lambda: snx.BPSTALeaky(beta=0.5, threshold=0.5, alpha=0.5, spatial=False),
        LIF(0.5, 0.5, "zero", alpha=0.5), SG("rectangular", 1.0)),
}


def _kernel_lif(lif, x, mem0, p, sg, w_spk, w_mem, keep=None, dtype=torch.float32):
    spk, mem = lif.lif_forward(x.to(dtype), mem0.to(dtype), p)
    grad_x, grad_mem0 = lif.lif_backward(w_spk.to(dtype), w_mem.to(dtype), mem, mem0.to(dtype),
                                         p, sg, keep)
    return spk, mem, grad_x, grad_mem0


def _close(kernel: torch.Tensor, reference: torch.Tensor, tol: float = 2e-5) -> None:
    torch.testing.assert_close(kernel.double(), reference.detach(), rtol=tol, atol=tol)


def _check_lif_case(lif, case, mem0_kind, shape, device):
    factory, p, sg = LIF_CASES[case]
    T, B, F = shape
    x = _dyadic(T, B, F, seed=1).to(device).requires_grad_()
    mem0 = (_dyadic(B, F, low=0.0, high=1.0, seed=2) if mem0_kind == "random"
            else torch.zeros(B, F, dtype=torch.float64)).to(device).requires_grad_()
    w_spk, w_mem = _weights((T, B, F), 3).to(device), _weights((T, B, F), 4).to(device)
    neuron = factory().to(device, torch.float64)
    spk, mem, _ = _per_step(neuron, x, mem0)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    k_spk, k_mem, k_gx, k_gm0 = _kernel_lif(lif, x.detach(), mem0.detach(), p, sg, w_spk, w_mem)
    assert spk.sum() > 0 and (spk == 0).any()  # the case exercises both branches
    assert torch.equal(k_spk.double(), spk.detach())
    _close(k_mem, mem)
    _close(k_gx, x.grad)
    _close(k_gm0, mem0.grad)


@pytest.mark.parametrize("mem0_kind", ["zeros", "random"])
@pytest.mark.parametrize("case", list(LIF_CASES))
def test_lif_kernels_match_per_step_neuron_float64(kernels, case, mem0_kind):
    _check_lif_case(kernels[0], case, mem0_kind, (T, B, F), "cpu")


def _check_msg(lif, rescale, shape, device):
    T, B, F = shape
    keep = (torch.rand(T, B, F, generator=torch.Generator().manual_seed(5)) >= 0.5).to(device)
    scale = 2.0 if rescale else 1.0
    neuron = snx.MSGLeaky(beta=0.5, threshold=0.5,
                          spike_grad=_Masked(snx.surrogate.piecewise_linear(2.0), keep,
                                             scale)).to(device, torch.float64)
    x = _dyadic(T, B, F, seed=6).to(device).requires_grad_()
    mem0 = torch.zeros(B, F, dtype=torch.float64, device=device, requires_grad=True)
    w_spk, w_mem = _weights((T, B, F), 7).to(device), _weights((T, B, F), 8).to(device)
    spk, mem, _ = _per_step(neuron, x, mem0)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    p, sg = LIF(0.5, 0.5, "zero", gain=0.5), SG("piecewise_linear", 2.0, p=0.5, scale=scale)
    k_spk, k_mem, k_gx, k_gm0 = _kernel_lif(lif, x.detach(), mem0.detach(), p, sg, w_spk,
                                            w_mem, keep)
    assert torch.equal(k_spk.double(), spk.detach())
    _close(k_mem, mem)
    _close(k_gx, x.grad)
    _close(k_gm0, mem0.grad)
    unmasked = _kernel_lif(lif, x.detach(), mem0.detach(), p, sg._replace(scale=1.0), w_spk,
                           w_mem)[2]
    assert not torch.allclose(unmasked, k_gx)  # the mask does something


@pytest.mark.parametrize("rescale", [False, True])
def test_msg_kernel_masks_the_surrogate_like_per_step_msg_leaky(kernels, rescale):
    _check_msg(kernels[0], rescale, (T, B, F), "cpu")


def _check_psp(lif, psp_k, reset, shape, device):
    T, B, F = shape
    neuron = snx.PSPLeaky(tau_m=2.0, tau_s=4.0, threshold=0.5, reset_mechanism=reset,
                          spike_grad=snx.surrogate.atan(2.0)).to(device, torch.float64)
    x = _dyadic(T, B, F, seed=9).to(device).requires_grad_()
    mem0 = _dyadic(B, F, low=0.0, high=1.0, seed=10).to(device).requires_grad_()
    psp0 = _dyadic(B, F, low=0.0, high=1.0, seed=11).to(device).requires_grad_()
    w_spk, w_psp, w_mem = (_weights((T, B, F), s).to(device) for s in (12, 13, 14))
    spk, mem, psp = _per_step(neuron, x, mem0, psp0)
    ((spk * w_spk).sum() + (psp * w_psp).sum() + (mem * w_mem).sum()).backward()

    p, sg, pp = LIF(0.5, 0.5, reset), SG("atan", 2.0), PSP(0.75, 4.0)
    k_spk, k_mem = lif.lif_forward(x.detach().float(), mem0.detach().float(), p)
    k_psp = psp_k.psp_forward(k_spk, psp0.detach().float(), pp)
    from_psp, k_gpsp0 = psp_k.psp_backward(w_psp.float(), pp)
    k_gx, k_gm0 = lif.lif_backward(from_psp + w_spk.float(), w_mem.float(), k_mem,
                                   mem0.detach().float(), p, sg, None)
    one_kernel = psp_k.lif_psp_forward(x.detach().float(), mem0.detach().float(),
                                       psp0.detach().float(), p, pp)
    one_kernel += psp_k.lif_psp_backward(w_spk.float(), w_psp.float(), w_mem.float(),
                                         one_kernel[2], mem0.detach().float(), p, pp, sg, None)
    for separate in ((k_spk, k_psp, k_mem, k_gx, k_gm0, k_gpsp0), one_kernel):
        assert torch.equal(separate[0].double(), spk.detach())
        for got, want in zip(separate[1:], (psp, mem, x.grad, mem0.grad, psp0.grad),
                             strict=True):
            _close(got, want)


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_psp_kernels_match_per_step_psp_leaky_float64(kernels, reset):
    _check_psp(*kernels, reset, (T, B, F), "cpu")


def test_lif_psp_kernels_equal_the_lif_and_psp_kernels_in_sequence(kernels):
    lif, psp_k = kernels
    p, sg, pp = LIF(0.9, 0.5, "zero", graded=0.5), SG("atan", 2.0), PSP(0.7, 10 / 3)
    x, mem0, psp0 = _dyadic(T, B, F, seed=23).float(), torch.zeros(B, F), torch.rand(B, F)
    w_spk, w_psp = _weights((T, B, F), 24).float(), _weights((T, B, F), 25).float()
    spk, psp, mem = psp_k.lif_psp_forward(x, mem0, psp0, p, pp)
    spk2, mem2 = lif.lif_forward(x, mem0, p)
    assert torch.equal(spk, spk2) and torch.equal(mem, mem2)
    assert torch.equal(psp, psp_k.psp_forward(spk2, psp0, pp))
    grads = psp_k.lif_psp_backward(w_spk, w_psp, None, mem, mem0, p, pp, sg, None)
    from_psp, grad_psp0 = psp_k.psp_backward(w_psp, pp)
    separate = lif.lif_backward(from_psp + w_spk, None, mem, mem0, p, sg, None)
    torch.testing.assert_close(grads[0], separate[0], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(grads[1], separate[1], rtol=1e-6, atol=1e-7)
    assert torch.equal(grads[2], grad_psp0)
    no_psp = psp_k.lif_psp_backward(w_spk, None, None, mem, mem0, p, pp, sg, None)
    assert no_psp[2] is None
    assert torch.equal(no_psp[0], lif.lif_backward(w_spk, None, mem, mem0, p, sg, None)[0])


def test_lif_backward_without_spike_or_membrane_errors(kernels):
    lif, _ = kernels
    p, sg = LIF(0.5, 0.5, "zero", alpha=0.8), SG("bpsa", 0.5)
    x = _dyadic(T, B, F, seed=15).float()
    spk, mem = lif.lif_forward(x, torch.zeros(B, F), p)
    w = _weights((T, B, F), 16).float()
    only_spk = lif.lif_backward(w, None, mem, torch.zeros(B, F), p, sg, None)
    only_mem = lif.lif_backward(None, w, mem, torch.zeros(B, F), p, sg, None)
    both = lif.lif_backward(w, w, mem, torch.zeros(B, F), p, sg, None)
    torch.testing.assert_close(only_spk[0] + only_mem[0], both[0])
    none = lif.lif_backward(None, None, mem, torch.zeros(B, F), p, sg, None)
    assert not none[0].any() and not none[1].any()


def test_constant_input_is_read_without_copy(kernels):
    lif, _ = kernels
    p = LIF(0.5, 0.5, "zero")
    step = _dyadic(B, F, seed=17).float()
    view = step.expand(T, B, F)
    assert view.stride(0) == 0
    for got, want in zip(lif.lif_forward(view, torch.zeros(B, F), p),
                         lif.lif_forward(view.contiguous(), torch.zeros(B, F), p), strict=True):
        assert torch.equal(got, want)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs_keep_their_dtype_and_follow_float32(kernels, dtype):
    lif, psp_k = kernels
    p, sg = LIF(0.5, 0.5, "zero", alpha=0.8), SG("bpsa", 0.5)
    x = _dyadic(T, B, F, seed=18)  # multiples of 1/64: exact in both half formats
    w = _weights((T, B, F), 19)
    half = _kernel_lif(lif, x, torch.zeros(B, F), p, sg, w, w, dtype=dtype)
    full = _kernel_lif(lif, x, torch.zeros(B, F), p, sg, w, w)
    assert all(t.dtype == dtype for t in half)
    same = (half[0].float() == full[0]).all(0)  # neurons whose spike trains agree
    assert same.float().mean() > 0.97  # rounded membranes flip few spikes
    for got, want in zip(half[1:3], full[1:3], strict=True):
        torch.testing.assert_close(got.float()[:, same], want[:, same], rtol=2e-2, atol=2e-2)
    assert psp_k.psp_forward(half[0], torch.zeros(B, F, dtype=dtype),
                             PSP(0.75, 4.0)).dtype == dtype


def test_bad_input_is_a_value_error_naming_it(kernels):
    lif, psp_k = kernels
    p, sg = LIF(0.5, 0.5, "zero"), SG("rectangular", 1.0)
    x = torch.zeros(T, B, F)
    with pytest.raises(ValueError, match="x must be float32, float16 or bfloat16"):
        lif.lif_forward(x.double(), torch.zeros(B, F, dtype=torch.float64), p)
    with pytest.raises(ValueError, match=r"mem0 must have the shape of one step \(5, 41\)"):
        lif.lif_forward(x, torch.zeros(F), p)
    with pytest.raises(ValueError, match="reset must be one of"):
        lif.lif_forward(x, torch.zeros(B, F), p._replace(reset="soft"))
    with pytest.raises(ValueError, match="beta must be one number"):
        lif.lif_forward(x, torch.zeros(B, F), p._replace(beta=torch.full((F,), 0.5)))
    _, mem = lif.lif_forward(x, torch.zeros(B, F), p)
    with pytest.raises(ValueError, match="surrogate must be one of"):
        lif.lif_backward(None, mem, mem, torch.zeros(B, F), p, sg._replace(kind="sigmoid"), None)
    with pytest.raises(ValueError, match="grad_spk must have the shape of mem"):
        lif.lif_backward(mem[:2], None, mem, torch.zeros(B, F), p, sg, None)
    with pytest.raises(ValueError, match=r"psp0 must have the shape of one step"):
        psp_k.psp_forward(mem, torch.zeros(B), PSP(0.75, 4.0))


def test_an_empty_batch_gives_empty_results(kernels):
    lif, psp_k = kernels
    p, sg = LIF(0.5, 0.5, "zero"), SG("atan", 2.0)
    spk, mem = lif.lif_forward(torch.zeros(T, 0, F), torch.zeros(0, F), p)
    grad_x, grad_mem0 = lif.lif_backward(spk, None, mem, torch.zeros(0, F), p, sg, None)
    assert spk.shape == mem.shape == grad_x.shape == (T, 0, F) and grad_mem0.shape == (0, F)
    assert psp_k.psp_forward(spk, torch.zeros(0, F), PSP(0.75, 4.0)).shape == (T, 0, F)
    with pytest.raises(ValueError, match="surrogate must be one of"):
        lif.lif_backward(spk, None, mem, torch.zeros(0, F), p, sg._replace(kind="x"), None)


def test_unsupported_names_the_reason(kernels):
    lif, _ = kernels

    class Plan(NamedTuple):
        p: LIF
        sg: SG
        pp: PSP | None = None

    plan = Plan(LIF(0.5, 0.5, "zero"), SG("atan", 2.0))
    assert lif.unsupported(torch.zeros(2, 3), plan) is None
    assert "float64" in lif.unsupported(torch.zeros(2, 3, dtype=torch.float64), plan)
    assert "sigmoid" in lif.unsupported(torch.zeros(2, 3), plan._replace(sg=SG("sigmoid", 1.0)))
    per_neuron = plan._replace(p=LIF(torch.full((3,), 0.5), 0.5, "zero"))
    assert "beta has 3 values" in lif.unsupported(torch.zeros(2, 3), per_neuron)


def _multi_step():
    """The torch multi-step path (``snntorch_ext.kernels``), or skip where it is absent."""
    try:
        return importlib.import_module("snntorch_ext.kernels.select")
    except ImportError:
        pytest.skip("the torch multi-step recursions (snntorch_ext.kernels) are not installed")


NETWORK_NEURONS = {
    "leaky-zero-rectangular": lambda: snn.Leaky(
        beta=0.9, threshold=0.5, reset_mechanism="zero",
        spike_grad=snx.surrogate.rectangular(1.0), init_hidden=True),
    "leaky-subtract-atan": lambda: snn.Leaky(
        beta=0.8, threshold=0.5, spike_grad=snx.surrogate.atan(2.0), init_hidden=True),
    "bpsta-baseline": lambda: snx.BPSTALeaky(spatial=False, temporal=False, init_hidden=True),
    "bpsta-bpsa": lambda: snx.BPSTALeaky(temporal=False, init_hidden=True),
    "bpsta-bpsa-bpta": lambda: snx.BPSTALeaky(init_hidden=True),
    "msg-generator": lambda: snx.MSGLeaky(
        spike_grad=snx.surrogate.masked(p=0.5, generator=torch.Generator().manual_seed(0)),
        init_hidden=True),
    "psp": lambda: snx.PSPLeaky(tau_m=2.0, threshold=0.5, init_hidden=True),
}


def run_network(factory, backend: str, x: torch.Tensor, seed: int = 0):
    """Output, final membrane and gradients of Linear + neuron run with ``backend``."""
    torch.manual_seed(seed)
    linear = torch.nn.Linear(x.shape[-1], 24).to(x.device, x.dtype)
    neuron = factory().to(x.device)
    net = snx.SpikingSequential(linear, neuron, backend=backend)
    x = x.detach().requires_grad_()
    out = net(x)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1))
    (out * weights.to(out)).sum().backward()
    return out.detach(), neuron.mem.detach(), x.grad, linear.weight.grad


@pytest.mark.parametrize("name", list(NETWORK_NEURONS))
def test_triton_backend_matches_torch_recursion_in_a_network(kernels, name):
    select = _multi_step()
    x = torch.rand(6, 4, 12, generator=torch.Generator().manual_seed(20)) * 1.5
    neuron = NETWORK_NEURONS[name]()
    assert select.backend_for(neuron, x, "triton")[0] == "triton"
    fused = run_network(NETWORK_NEURONS[name], "fused", x)
    triton = run_network(NETWORK_NEURONS[name], "triton", x)
    assert fused[0].sum() > 0
    assert torch.equal(triton[0] > 0, fused[0] > 0)
    for got, want in zip(triton, fused, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


# ---- compiled kernels on CUDA (the gpu mark; skipped without CUDA) ----

GPU_SHAPE = (8, 16, 3001)  # N = 48016 neurons: 47 programs of BLOCK = 1024, the last partial


@pytest.mark.gpu
@pytest.mark.parametrize("case", list(LIF_CASES))
def test_compiled_lif_kernels_match_per_step_neuron_on_cuda(compiled, case):
    _check_lif_case(compiled[0], case, "random", GPU_SHAPE, "cuda")


@pytest.mark.gpu
def test_compiled_msg_and_psp_kernels_match_per_step_neurons_on_cuda(compiled):
    _check_msg(compiled[0], True, GPU_SHAPE, "cuda")
    _check_psp(*compiled, "zero", GPU_SHAPE, "cuda")


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(NETWORK_NEURONS))
def test_compiled_triton_backend_matches_torch_recursion_on_cuda(compiled, name):
    select = _multi_step()
    x = torch.rand(8, 64, 96, generator=torch.Generator().manual_seed(21)).cuda() * 1.5
    assert select.backend_for(NETWORK_NEURONS[name](), x, "auto")[0] == "triton"
    fused = run_network(NETWORK_NEURONS[name], "fused", x)
    triton = run_network(NETWORK_NEURONS[name], "triton", x)
    # a fused multiply-add on the GPU may move a membrane across the threshold now and then:
    # nearly every value agrees, and the strict checks are the dyadic tests above
    for got, want in zip(triton, fused, strict=True):
        assert torch.isclose(got, want, rtol=1e-4, atol=1e-5).float().mean() > 0.99


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_compiled_triton_backend_in_half_precision_follows_torch(compiled, dtype):
    _multi_step()
    x = (torch.rand(8, 64, 96, generator=torch.Generator().manual_seed(22)) * 1.5).cuda()
    factory = NETWORK_NEURONS["bpsta-bpsa-bpta"]
    fused = run_network(factory, "fused", x.to(dtype))
    triton = run_network(factory, "triton", x.to(dtype))
    assert triton[0].dtype == dtype and triton[2].dtype == dtype
    assert (triton[0] == fused[0]).float().mean() > 0.98
    cosine = torch.nn.functional.cosine_similarity(triton[3].float().flatten(),
                                                   fused[3].float().flatten(), dim=0)
    assert cosine > 0.99
