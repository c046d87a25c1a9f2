"""The multi-step kernels against the papers' recursions written independently in NumPy."""

from __future__ import annotations

import numpy as np
import torch

import snntorch_ext as snx
from snntorch_ext.kernels import plan, run_neuron
from snntorch_ext.utils import reset


def _fused(neuron, x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output and dL/dx of L = sum(weights * output) on the fused path."""
    reset(neuron)
    xt = torch.tensor(x, requires_grad=True)
    out = run_neuron(neuron, xt, "fused", plan(neuron))
    (out * torch.tensor(weights)).sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


def test_bpsa_bpta_matches_numpy_recursion() -> None:
    """Shen et al. 2022 Eq. 2-4 forward; error recursion of BPSA (1/u) + BPTA (alpha)."""
    neuron = snx.BPSTALeaky(beta=0.9, threshold=0.5, alpha=0.8, init_hidden=True)
    # the neuron keeps its parameters in float32 buffers: use those values
    lam, thr, alpha = (float(v) for v in (neuron.beta, neuron.threshold, neuron.alpha))
    rng = np.random.default_rng(0)
    steps, shape = 12, (4, 7)
    x = rng.uniform(-0.2, 1.0, (steps, *shape))
    s = rng.normal(size=(steps, *shape))                 # error arriving at o[t]
    u, o = np.zeros((steps, *shape)), np.zeros((steps, *shape))
    prev_u, prev_o = np.zeros(shape), np.zeros(shape)
    for t in range(steps):
        u[t] = lam * (1 - prev_o) * prev_u + x[t]
        o[t] = (u[t] > thr).astype(float)
        prev_u, prev_o = u[t], o[t]
    g = np.where(u > thr, 1.0 / np.where(u > thr, u, 1.0), 0.0)   # BPSA: 1/u where it fires
    eps, nxt = np.zeros_like(u), np.zeros(shape)
    for t in reversed(range(steps)):
        eps[t] = g[t] * (s[t] + lam * alpha * nxt) + lam * (1 - o[t]) * nxt
        nxt = eps[t]
    out, grad = _fused(neuron, x, s)
    assert 0 < o.sum() < o.size
    np.testing.assert_array_equal(out, o)
    np.testing.assert_allclose(grad, eps, rtol=1e-12, atol=1e-12)
    plain = np.zeros_like(u)                               # without BPTA the result differs
    nxt = np.zeros(shape)
    for t in reversed(range(steps)):
        plain[t] = g[t] * s[t] + lam * (1 - o[t]) * nxt
        nxt = plain[t]
    assert not np.allclose(plain, eps)


def test_psp_matches_numpy_recursion() -> None:
    """Spike-sequence-label STBP: LIF with decay 1 - 1/tau_m, PSP a = (1 - 1/tau_s) a + o/tau_s;
    BPTT through both with the arctan surrogate (alpha = 2)."""
    neuron = snx.PSPLeaky(tau_m=4.0, tau_s=3.0, threshold=0.7, init_hidden=True)
    lam, tau_s, thr = (float(v) for v in (neuron.beta, neuron.tau_s, neuron.threshold))
    d = float(1 - 1 / neuron.tau_s)                        # as the neuron rounds it (float32)
    rng = np.random.default_rng(1)
    steps, shape = 15, (3, 6)
    x = rng.uniform(-0.1, 0.8, (steps, *shape))
    w = rng.normal(size=(steps, *shape))                  # dL/da[t]
    u, o, a = (np.zeros((steps, *shape)) for _ in range(3))
    pu, po, pa = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for t in range(steps):
        u[t] = lam * (1 - po) * pu + x[t]
        o[t] = (u[t] > thr).astype(float)
        a[t] = d * pa + o[t] / tau_s
        pu, po, pa = u[t], o[t], a[t]
    g = 1.0 / (1 + (np.pi / 2 * 2.0 * (u - thr)) ** 2)     # atan: (alpha/2)/(1+(pi/2 alpha z)^2)
    da, du = np.zeros_like(u), np.zeros_like(u)
    na, nu = np.zeros(shape), np.zeros(shape)
    for t in reversed(range(steps)):
        da[t] = w[t] + d * na
        du[t] = g[t] * da[t] / tau_s + lam * (1 - o[t]) * nu
        na, nu = da[t], du[t]
    out, grad = _fused(neuron, x, w)
    assert 0 < o.sum() < o.size
    np.testing.assert_allclose(out, a, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad, du, rtol=1e-12, atol=1e-12)
