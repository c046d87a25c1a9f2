"""Spike-sequence-label STBP (JEIT 2024): PSPLeaky, target trains, van Rossum and Hamming losses.

Every reference value is computed independently in NumPy float64 from the equations of SPEC.md
section 4 (loops over time, hand-written BPTT), not with the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import snntorch as snn
import snntorch.utils
import torch
from torch import nn

import snntorch_ext as snx
from snntorch_ext.functional import (
    hamming_loss,
    spike_train_accuracy,
    spike_train_scores,
    spike_train_targets,
    van_rossum_filter,
    van_rossum_loss,
)

F64 = torch.float64


# --------------------------------------------------------------------------- NumPy references
def np_filter(trains: np.ndarray, tau: float) -> np.ndarray:
    """r[t] = (1 - 1/tau) r[t-1] + s[t] along axis 0, as a loop."""
    out, state = np.zeros_like(trains), np.zeros_like(trains[0])
    for t in range(trains.shape[0]):
        state = (1 - 1 / tau) * state + trains[t]
        out[t] = state
    return out


def np_van_rossum(o: np.ndarray, y: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
    """Loss 1/(2B) sum (k*o - k*y)^2 and its gradient w.r.t. o (reverse recursion)."""
    batch = o.shape[1]
    err = np_filter(o, tau) - np_filter(y, tau)
    grad, acc = np.zeros_like(o), np.zeros_like(o[0])
    for t in reversed(range(o.shape[0])):
        acc = err[t] + (1 - 1 / tau) * acc
        grad[t] = acc / batch
    return 0.5 * float((err ** 2).sum()) / batch, grad


def np_targets(labels, num_classes, steps, pattern) -> np.ndarray:
    y = np.zeros((steps, len(labels), num_classes))
    for b, label in enumerate(labels):
        for t in range(steps):
            y[t, b, label] = pattern[t % len(pattern)]
    return y


def np_atan_grad(z: np.ndarray, alpha: float = 2.0) -> np.ndarray:
    return (alpha / 2) / (1 + (np.pi / 2 * alpha * z) ** 2)


def np_psp_layer(current: np.ndarray, tau_m: float, tau_s: float, thr: float):
    """SPEC.md section 4 forward: membrane with hard reset, spike, PSP; all [T, ...]."""
    beta, decay = 1 - 1 / tau_m, 1 - 1 / tau_s
    u, o, a = (np.zeros_like(current) for _ in range(3))
    u_prev, o_prev, a_prev = (np.zeros_like(current[0]) for _ in range(3))
    for t in range(current.shape[0]):
        u[t] = beta * (1 - o_prev) * u_prev + current[t]
        o[t] = (u[t] > thr).astype(float)
        a[t] = decay * a_prev + o[t] / tau_s
        u_prev, o_prev, a_prev = u[t], o[t], a[t]
    return u, o, a


# --------------------------------------------------------------------------- targets
def test_targets_shape_pattern_cut_and_silence():
    labels = torch.tensor([3, 0, 3])
    y = spike_train_targets(labels, num_classes=5, num_steps=25)
    assert y.shape == (25, 3, 5) and y.dtype == torch.get_default_dtype()
    np.testing.assert_array_equal(y.numpy(), np_targets([3, 0, 3], 5, 25, (0, 1)))
    assert y[:, 0, 3].tolist() == [0.0, 1.0] * 12 + [0.0]       # cut at T = 25: 12 spikes
    assert y[:, 1, 1:].abs().sum() == 0 and y[:, 0, :3].abs().sum() == 0  # others silent
    cut = spike_train_targets(torch.tensor([1]), 2, 5, pattern=(1, 0, 0), dtype=F64)
    assert cut.dtype == F64 and cut[:, 0, 1].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert spike_train_targets(torch.tensor([1]), 2, 1)[:, 0].tolist() == [[0.0, 0.0]]


@pytest.mark.parametrize("kwargs, match", [
    ({"labels": torch.tensor([0, 5])}, "labels must lie in"),
    ({"labels": torch.tensor([0.0, 1.0])}, "integer tensor"),
    ({"labels": torch.tensor([[0]])}, "integer tensor"),
    ({"pattern": (0, 0)}, "at least one"),
    ({"pattern": (0, 2)}, "0s and 1s"),
    ({"pattern": ()}, "non-empty"),
    ({"num_steps": 0}, "num_steps"),
    ({"num_classes": 0}, "num_classes"),
])
def test_targets_bad_arguments(kwargs, match):
    args = {"labels": torch.tensor([0, 1]), "num_classes": 5, "num_steps": 4} | kwargs
    with pytest.raises(ValueError, match=match):
        spike_train_targets(**args)


# --------------------------------------------------------------------------- losses
def _random_trains(steps=9, batch=3, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((steps, batch, classes)) < 0.4).astype(float), rng.integers(0, classes,
                                                                                     batch)


@pytest.mark.parametrize("tau", [1.0, 4.0, 7.5])
def test_van_rossum_value_and_gradient_match_filter_and_square(tau):
    o_np, labels = _random_trains()
    o = torch.tensor(o_np, dtype=F64, requires_grad=True)
    loss = van_rossum_loss(tau=tau, pattern=(0, 1))(o, torch.as_tensor(labels))
    loss.backward()
    ref, ref_grad = np_van_rossum(o_np, np_targets(labels, 4, 9, (0, 1)), tau)
    assert loss.shape == () and loss.dtype == F64
    assert loss.item() == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(o.grad.numpy(), ref_grad, rtol=1e-12, atol=1e-14)
    assert np.abs(ref_grad).sum() > 0


def test_van_rossum_accepts_explicit_trains_and_is_zero_on_target():
    o_np, labels = _random_trains(seed=1)
    y_np = np_targets(labels, 4, 9, (1, 0, 1))
    loss_fn = van_rossum_loss(tau=3.0, pattern=(1, 0, 1))
    o = torch.tensor(o_np)
    by_labels = loss_fn(o, torch.as_tensor(labels))
    by_trains = loss_fn(o, torch.tensor(y_np))
    assert by_labels.item() == pytest.approx(by_trains.item(), rel=1e-6)
    assert by_labels.item() == pytest.approx(np_van_rossum(o_np, y_np, 3.0)[0], rel=1e-6)
    assert loss_fn(torch.tensor(y_np), torch.as_tensor(labels)).item() == 0.0


def test_van_rossum_filter_matches_loop():
    x = torch.rand(11, 2, 3, dtype=F64)
    np.testing.assert_allclose(van_rossum_filter(x, 2.5).numpy(), np_filter(x.numpy(), 2.5),
                               rtol=1e-12)


def test_hamming_value_and_gradient():
    o_np, labels = _random_trains(seed=2)
    y_np = np_targets(labels, 4, 9, (0, 1))
    o = torch.tensor(o_np, dtype=F64, requires_grad=True)
    loss = hamming_loss()(o, torch.as_tensor(labels))
    loss.backward()
    assert loss.shape == ()
    assert loss.item() == pytest.approx(float((o_np != y_np).sum()) / 3)
    np.testing.assert_allclose(o.grad.numpy(), np.sign(o_np - y_np) / 3)
    assert hamming_loss(pattern=(1,))(torch.zeros(4, 2, 3), torch.tensor([0, 2])).item() == 4.0


@pytest.mark.parametrize("loss_fn", [van_rossum_loss(), hamming_loss()])
def test_losses_reject_bad_input(loss_fn):
    out = torch.zeros(5, 2, 3)
    with pytest.raises(ValueError, match="time steps"):
        loss_fn(out, torch.zeros(6, 2, 3))
    with pytest.raises(ValueError, match="shape of spk_out"):
        loss_fn(out, torch.zeros(5, 2, 4))
    with pytest.raises(ValueError, match="one entry per sample"):
        loss_fn(out, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[T, B, C\]"):
        loss_fn(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        loss_fn(torch.full((5, 2, 3), float("nan")), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels must lie in"):
        loss_fn(out, torch.tensor([0, 3]))


@pytest.mark.parametrize("factory, kwargs", [
    (van_rossum_loss, {"tau": 0.5}), (van_rossum_loss, {"tau": float("nan")}),
    (van_rossum_loss, {"pattern": (0,)}), (hamming_loss, {"pattern": "ab"}),
])
def test_loss_arguments_are_checked(factory, kwargs):
    with pytest.raises(ValueError):
        factory(**kwargs)


def test_gradient_reaches_weights_through_output_surrogate():
    torch.manual_seed(0)
    net = snx.SpikingSequential(nn.Linear(3, 4), snx.PSPLeaky(init_hidden=True, output=True))
    for loss_fn in (van_rossum_loss(), hamming_loss()):
        net.zero_grad()
        loss_fn(net(torch.rand(10, 2, 3) * 2), torch.tensor([1, 2])).backward()
        assert net[0].weight.grad.abs().sum() > 0


# --------------------------------------------------------------------------- readout
def test_scores_are_minus_van_rossum_distance_to_each_target():
    o_np, labels = _random_trains(steps=10, batch=4, classes=3, seed=3)
    scores = spike_train_scores(torch.tensor(o_np), tau=3.0, pattern=(0, 1))
    assert scores.shape == (4, 3)
    for k in range(3):
        y = np_targets([k] * 4, 3, 10, (0, 1))
        dist = 0.5 * ((np_filter(o_np, 3.0) - np_filter(y, 3.0)) ** 2).sum(axis=(0, 2))
        np.testing.assert_allclose(scores[:, k].numpy(), -dist, rtol=1e-6)


def test_accuracy_picks_nearest_target():
    labels = torch.tensor([2, 0, 1])
    out = spike_train_targets(labels, 3, 12)
    assert spike_train_accuracy(out, labels) == 1.0
    noisy = out.clone()
    noisy[:, 0, 1] = 1.0                                   # sample 0: a busier wrong neuron
    noisy[:, 0, 2] = 0.0
    assert spike_train_accuracy(noisy, labels) == pytest.approx(2 / 3)
    silent = torch.zeros(12, 3, 3)                         # a tie between all targets: wrong
    assert spike_train_accuracy(silent, torch.tensor([0, 0, 0])) == 0.0
    assert spike_train_scores(silent).argmax(-1).tolist() == [0, 0, 0]   # argmax: lowest index
    with pytest.raises(ValueError, match="one entry per sample"):
        spike_train_accuracy(out, torch.tensor([0, 1]))


# --------------------------------------------------------------------------- PSPLeaky
def test_psp_leaky_forward_matches_spec_recursion():
    rng = np.random.default_rng(0)
    current = rng.uniform(-0.2, 0.8, size=(15, 2, 5))
    u, o, a = np_psp_layer(current, tau_m=4.0, tau_s=2.0, thr=1.0)   # exact in float32
    lif = snx.PSPLeaky(tau_m=4.0, tau_s=2.0, threshold=1.0)
    mem = psp = None
    for t in range(15):
        spk, psp, mem = lif(torch.tensor(current[t]), mem, psp)
        np.testing.assert_allclose(mem.numpy(), u[t], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(spk.numpy(), o[t])
        np.testing.assert_allclose(psp.numpy(), a[t], rtol=1e-12, atol=1e-12)
    assert spk.dtype == psp.dtype == mem.dtype == F64
    assert o.sum() > 5 and (1 - o).sum() > 5                   # the case exercises both branches
    assert lif.beta.item() == 0.75 and lif.tau_m.item() == 4.0


def test_psp_leaky_outputs_with_init_hidden():
    x = torch.full((4, 2), 1.5)
    passes_psp = snx.PSPLeaky(init_hidden=True)
    triple = snx.PSPLeaky(init_hidden=True, output=True)
    psp = [passes_psp(x_t) for x_t in x.unbind(0)][-1]
    spk, psp3, mem = [triple(x_t) for x_t in x.unbind(0)][-1]
    assert torch.equal(psp, psp3) and torch.equal(psp, passes_psp.psp)
    assert torch.equal(spk, triple.spk) and torch.equal(mem, triple.mem)
    with pytest.raises(TypeError, match="psp"):
        passes_psp(x[0], psp=torch.zeros(2))


def _two_layer_case():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, size=(14, 2, 3))
    w1 = rng.normal(0.5, 0.8, size=(5, 3))
    w2 = rng.normal(1.5, 2.0, size=(2, 5))
    return x, w1, w2


def test_gradient_through_psp_leaky_equals_independent_bptt():
    """Two PSP layers and the van Rossum loss: autograd against a NumPy BPTT of both recursions.

    The paper's PSP and membrane iteration factors, dL/da and dL/du, are computed by hand:
    dL/da1[t] = W2^T dL/du2[t] + (1 - 1/tau_s) dL/da1[t+1],
    dL/du[t] = g'(u[t]) dL/do[t] + beta (1 - o[t]) dL/du[t+1], dL/dW = sum_t dL/du[t] a_in[t]^T.
    """
    tau_m, tau_s, thr, tau_vr = 8.0, 4.0, 1.0, 4.0
    x, w1, w2 = _two_layer_case()
    labels = np.array([1, 0])
    fc1, fc2 = nn.Linear(3, 5, bias=False).double(), nn.Linear(5, 2, bias=False).double()
    with torch.no_grad():
        fc1.weight.copy_(torch.tensor(w1))
        fc2.weight.copy_(torch.tensor(w2))
    net = snx.SpikingSequential(fc1, snx.PSPLeaky(tau_m, tau_s, thr, init_hidden=True),
                                fc2, snx.PSPLeaky(tau_m, tau_s, thr, init_hidden=True,
                                                  output=True))
    loss = van_rossum_loss(tau=tau_vr)(net(torch.tensor(x)), torch.as_tensor(labels))
    loss.backward()

    beta, decay = 1 - 1 / tau_m, 1 - 1 / tau_s
    u1, o1, a1 = np_psp_layer(x @ w1.T, tau_m, tau_s, thr)
    u2, o2, _ = np_psp_layer(a1 @ w2.T, tau_m, tau_s, thr)
    ref_loss, d_o2 = np_van_rossum(o2, np_targets(labels, 2, 14, (0, 1)), tau_vr)
    d_u2, d_u1 = np.zeros_like(u2), np.zeros_like(u1)
    next_u2, next_u1, next_a1 = (np.zeros_like(u2[0]), np.zeros_like(u1[0]),
                                 np.zeros_like(a1[0]))
    for t in reversed(range(14)):
        d_u2[t] = d_o2[t] * np_atan_grad(u2[t] - thr) + beta * (1 - o2[t]) * next_u2
        d_a1 = d_u2[t] @ w2 + decay * next_a1
        d_u1[t] = d_a1 / tau_s * np_atan_grad(u1[t] - thr) + beta * (1 - o1[t]) * next_u1
        next_u2, next_u1, next_a1 = d_u2[t], d_u1[t], d_a1
    grad_w2 = np.einsum("tbi,tbj->ij", d_u2, a1)
    grad_w1 = np.einsum("tbi,tbj->ij", d_u1, x)

    assert o1.mean() > 0.05 and o2.sum() > 2                  # both layers spike
    assert loss.item() == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(fc2.weight.grad.numpy(), grad_w2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fc1.weight.grad.numpy(), grad_w1, rtol=1e-10, atol=1e-12)
    assert np.abs(grad_w1).min() > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"tau_m": 0.5}, "tau_m"), ({"tau_s": 0.0}, "tau_s"), ({"tau_s": float("inf")}, "tau_s"),
    ({"threshold": 0.0}, "threshold"), ({"threshold": torch.tensor([1.0, -1.0])}, "threshold"),
    ({"reset_mechanism": "soft"}, "reset_mechanism"),
])
def test_psp_leaky_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        snx.PSPLeaky(**kwargs)


def test_psp_leaky_rejects_state_of_wrong_shape():
    lif = snx.PSPLeaky()
    with pytest.raises(ValueError, match="psp must have the shape"):
        lif(torch.ones(2, 3), torch.zeros(2, 3), torch.zeros(3, 3))


def _psp_net():
    torch.manual_seed(1)
    return snx.SpikingSequential(nn.Linear(3, 6), snx.PSPLeaky(init_hidden=True),
                                 nn.Linear(6, 2), snx.PSPLeaky(init_hidden=True, output=True))


def _step_through(net, x):
    """Call the layers one step at a time (snnTorch tutorial style), without any reset.

    Returns the hidden layer's PSP and the output spikes over time.
    """
    psps, outs = [], []
    for x_t in x.unbind(0):
        h = x_t
        for module in net:
            h = module(h)
            h = h[0] if isinstance(h, tuple) else h
        psps.append(net[1].psp)
        outs.append(h)
    return torch.cat([torch.stack(psps), torch.stack(outs)], dim=-1)


@pytest.mark.parametrize("reset", ["snx", "snntorch", "class", "reset_mem"])
def test_resets_restart_membrane_and_psp(reset):
    net, x = _psp_net(), torch.rand(8, 2, 3) * 3
    fresh = _step_through(net, x)
    _step_through(net, x)                                       # leave state behind
    assert net[1].psp.abs().sum() > 0
    if reset == "snx":
        snx.utils.reset(net)
        assert net[1].psp.abs().sum() == 0 and net[1].spk.abs().sum() == 0
    elif reset == "snntorch":
        snntorch.utils.reset(net)                               # Leaky.reset_hidden
    elif reset == "class":
        snx.PSPLeaky.reset_hidden()
        assert net[1].psp.abs().sum() == 0
    else:
        net[1].reset_mem(), net[3].reset_mem()
    assert torch.equal(_step_through(net, x), fresh)


def test_detach_hidden_detaches_psp():
    lif = snx.PSPLeaky(init_hidden=True)
    lif(torch.ones(2, requires_grad=True) * 2)
    assert lif.psp.grad_fn is not None
    snx.PSPLeaky.detach_hidden()
    assert lif.psp.grad_fn is None and lif.mem.grad_fn is None


def test_firing_rates_count_spikes_not_psp():
    net, x = _psp_net(), torch.rand(8, 2, 3) * 3
    spikes = []
    net[1].register_forward_hook(lambda m, i, o: spikes.append(m.spk.clone()))
    with snx.metrics.FiringRates(net) as rates:
        net(x)
    expected = torch.stack(spikes).mean().item()
    assert 0 < expected < 1
    assert rates.per_layer()["1"] == pytest.approx(expected)


def test_psp_leaky_drops_into_snntorch_style_loop():
    """PSPLeaky in the usual init_hidden=False loop of snn.Leaky: only the return grows."""
    fc, lif = nn.Linear(3, 2), snx.PSPLeaky()
    mem = lif.reset_mem()
    for x_t in torch.rand(5, 4, 3).unbind(0):
        spk, psp, mem = lif(fc(x_t), mem)
    assert spk.shape == psp.shape == mem.shape == (4, 2)
    assert isinstance(lif, snn.Leaky)


# --------------------------------------------------------------------------- surrogate
def test_atan_matches_snntorch_and_keeps_dtype():
    z = torch.linspace(-2, 2, 11, dtype=F64, requires_grad=True)
    spk = snx.surrogate.atan(alpha=3.0)(z)
    spk.sum().backward()
    assert spk.dtype == F64
    np.testing.assert_allclose(z.grad.numpy(), np_atan_grad(z.detach().numpy(), 3.0), rtol=1e-12)
    z32 = z.detach().float().requires_grad_()
    snn.surrogate.atan(alpha=3.0)(z32).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), z32.grad.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        snx.surrogate.atan(alpha=0)


# --------------------------------------------------------------------------- networks, recipes
def test_ssl_nmnist_shapes_and_spiking_output():
    net = snx.models.ssl_nmnist()
    out = net(torch.rand(3, 2, 2, 34, 34) * 3)
    assert out.shape == (3, 2, 10)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert net[-1].output and not net[1].output
    assert net[7].in_features == 64 * 5 * 5
    assert snx.models.ssl_nmnist(in_channels=1, size=28)[7].in_features == 64 * 4 * 4
    with pytest.raises(ValueError, match="size"):
        snx.models.ssl_nmnist(size=12)


def test_ssl_nmnist_takes_the_stbp_neuron():
    net = snx.models.ssl_nmnist(in_channels=1, size=16, neuron=snx.models.stbp_neuron)
    assert net(torch.rand(2, 1, 1, 16, 16)).shape == (2, 1, 10)


def test_ssl_cifar10_shapes():
    net = snx.models.ssl_cifar10(channels=(4, 4, 4, 4, 4), hidden=(8, 8))
    assert net(torch.rand(2, 1, 3, 32, 32)).shape == (2, 1, 10)
    with pytest.raises(ValueError, match="size"):
        snx.models.ssl_cifar10(size=30)
    with pytest.raises(ValueError, match="weight_scale"):
        snx.models.ssl_cifar10(weight_scale=0.0)


def test_weight_scale_multiplies_default_initialisation():
    weights = []
    for scale in (1.0, 5.0):
        torch.manual_seed(0)
        net = snx.models.ssl_cifar10(channels=(2, 2, 2, 2, 2), hidden=(4, 4), weight_scale=scale)
        weights.append([m.weight for m in net if isinstance(m, (nn.Conv2d, nn.Linear))])
    assert len(weights[0]) == 8
    for plain, scaled in zip(*weights, strict=True):
        torch.testing.assert_close(scaled, 5.0 * plain)


SSL_RECIPES = ["ssl-nmnist-vanrossum", "ssl-nmnist-hamming", "stbp-nmnist",
               "ssl-cifar10-vanrossum", "ssl-cifar10-hamming"]


@pytest.mark.parametrize("name", SSL_RECIPES)
def test_recipes_build_and_run_a_tiny_batch(name):
    recipe = snx.recipes.get(name).quick_variant()
    offline = {"snntorch_ext.data:mnist_offline": (1, 28), "snntorch_ext.data:nmnist_synthetic":
               (2, 34)}
    channels, size = offline[recipe.dataset]                  # quick runs need no download
    model = snx.engine.build_model(recipe, in_channels=channels)
    out = model(torch.rand(3, 2, channels, size, size))       # [T, B, C, H, W], a tiny batch
    assert out.shape == (3, 2, 10)
    loss = snx.recipes.resolve(recipe.loss)(**recipe.loss_kwargs)(out, torch.tensor([0, 1]))
    assert loss.dim() == 0 or loss.numel() == 1
    assert snx.recipes.resolve(recipe.predict)(out).shape == (2, 10)


def test_recipes_table_settings():
    for name in ("ssl-nmnist-vanrossum", "ssl-nmnist-hamming"):
        recipe = snx.recipes.get(name)
        assert (recipe.num_steps, recipe.epochs) == (25, 100)
        assert recipe.encoder.endswith(":time_major")
    stbp = snx.recipes.get("stbp-nmnist")
    assert (stbp.num_steps, stbp.epochs) == (50, 150)

