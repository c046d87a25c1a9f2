"""BPSA + BPTA (Shen, Zhao, Zeng 2022): neuron, surrogate, voting, dropout, networks, energy."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest
import snntorch as snn
import snntorch.functional
import snntorch.utils
import torch
from torch import nn

import snntorch_ext as snx

LAM, THR, ALPHA = 0.9, 0.5, 0.8


# --- an independent reference: SPEC section 1 in NumPy float64 --------------------------------

def reference(currents: np.ndarray, errors: np.ndarray, spatial: bool, temporal: bool,
              lam: float = LAM, thr: float = THR, alpha: float = ALPHA, width: float = 1.0):
    """Forward Eq. 2-4 and the error recursion of SPEC section 1.

    ``eps[t] = g'(u[t]) * (s[t] + lam*alpha*eps[t+1]) + lam*(1 - o[t])*eps[t+1]``, with ``s`` the
    error arriving at the spikes. Returns spikes, membrane and ``eps = dL/dI`` (``du/dI = 1``).
    """
    steps = currents.shape[0]
    u = np.zeros_like(currents)
    o = np.zeros_like(currents)
    u_prev = np.zeros_like(currents[0])
    o_prev = np.zeros_like(currents[0])
    for t in range(steps):
        u[t] = lam * (1.0 - o_prev) * u_prev + currents[t]
        o[t] = (u[t] > thr).astype(np.float64)
        u_prev, o_prev = u[t], o[t]
    if spatial:
        g = np.where(o > 0, 1.0 / np.where(o > 0, u, 1.0), 0.0)
    else:
        g = (np.abs(u - thr) < width / 2).astype(np.float64) / width
    a = alpha if temporal else 0.0
    eps = np.zeros_like(currents)
    nxt = np.zeros_like(currents[0])
    for t in reversed(range(steps)):
        eps[t] = g[t] * (errors[t] + lam * a * nxt) + lam * (1.0 - o[t]) * nxt
        nxt = eps[t]
    return o, u, eps


def run(neuron: nn.Module, currents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Step a neuron snnTorch-style over ``[T, ...]``; returns stacked spikes and membranes."""
    mem = neuron.init_leaky()
    spikes, mems = [], []
    for x_t in currents.unbind(0):
        spk, mem = neuron(x_t, mem)
        spikes.append(spk)
        mems.append(mem)
    return torch.stack(spikes), torch.stack(mems)


@pytest.fixture
def sequence():
    """40 steps of 2x3 neurons with currents that make every neuron fire several times."""
    rng = np.random.default_rng(3)
    currents = rng.uniform(0.0, 0.45, size=(40, 2, 3))
    errors = rng.normal(size=(40, 2, 3))
    return currents, errors


def grad_of_currents(neuron: nn.Module, currents: np.ndarray, errors: np.ndarray):
    x = torch.tensor(currents, requires_grad=True)
    spk, mem = run(neuron, x)
    (spk * torch.tensor(errors)).sum().backward()
    return spk.detach().numpy(), mem.detach().numpy(), x.grad.numpy()


# --- gradients against the reference -------------------------------------------------------------

@pytest.mark.parametrize("spatial,temporal", [(True, True), (True, False), (False, False)])
def test_gradient_equals_spec_error_recursion(sequence, spatial, temporal):
    currents, errors = sequence
    neuron = snx.BPSTALeaky(beta=LAM, threshold=THR, alpha=ALPHA, spatial=spatial,
                            temporal=temporal).double()
    lam, thr, alpha = float(neuron.beta), float(neuron.threshold), float(neuron.alpha)
    o, u, eps = reference(currents, errors, spatial, temporal, lam, thr, alpha)
    assert (o.sum(0) >= 3).all(), "every neuron must spike several times"
    assert (o.sum(0) <= 30).all(), "and stay silent at other steps"
    spk, mem, grad = grad_of_currents(neuron, currents, errors)
    np.testing.assert_array_equal(spk, o)
    np.testing.assert_allclose(mem, u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grad, eps, rtol=1e-10, atol=1e-12)


def test_the_three_rules_give_different_gradients(sequence):
    currents, errors = sequence
    grads = [grad_of_currents(snx.BPSTALeaky(spatial=s, temporal=t).double(), currents, errors)[2]
             for s, t in [(True, True), (True, False), (False, False)]]
    assert not np.allclose(grads[0], grads[1])
    assert not np.allclose(grads[1], grads[2])


def test_bpta_carries_error_across_a_spike():
    # One neuron spikes at steps 1 and 3 (0-based); an error only at the last step.
    currents = np.array([[0.3], [0.3], [0.4], [0.6], [0.1]])
    errors = np.array([[0.0], [0.0], [0.0], [0.0], [1.0]])
    with_bpta = grad_of_currents(snx.BPSTALeaky().double(), currents, errors)
    without = grad_of_currents(snx.BPSTALeaky(temporal=False).double(), currents, errors)
    np.testing.assert_array_equal(with_bpta[0][:, 0], [0, 1, 0, 1, 0])
    assert np.all(without[2][:4] == 0)     # BPSA alone: no error before the silent last step
    assert np.all(with_bpta[2][:4] == 0)   # ... and the last step is silent: nothing to carry
    errors = np.array([[0.0], [0.0], [0.0], [1.0], [0.0]])
    with_bpta = grad_of_currents(snx.BPSTALeaky().double(), currents, errors)[2][:, 0]
    without = grad_of_currents(snx.BPSTALeaky(temporal=False).double(), currents, errors)[2][:, 0]
    assert without[1] == 0 and without[0] == 0 and without[2] != 0   # cut at the spike of step 1
    assert with_bpta[1] != 0 and with_bpta[0] != 0                   # BPTA crosses it


def test_alpha_zero_equals_no_temporal_adjustment(sequence):
    currents, errors = sequence
    a = grad_of_currents(snx.BPSTALeaky(alpha=0.0).double(), currents, errors)[2]
    b = grad_of_currents(snx.BPSTALeaky(temporal=False).double(), currents, errors)[2]
    np.testing.assert_array_equal(a, b)


def test_stock_leaky_with_bpsa_surrogate_is_bpsa_only(sequence):
    currents, errors = sequence
    leaky = snn.Leaky(beta=torch.tensor(LAM, dtype=torch.float64), threshold=THR,
                      reset_mechanism="zero", spike_grad=snx.surrogate.bpsa(THR))
    o, u, eps = reference(currents, errors, spatial=True, temporal=False)
    spk, _, grad = grad_of_currents(leaky, currents, errors)
    np.testing.assert_array_equal(spk, o)
    np.testing.assert_allclose(grad, eps, rtol=1e-10, atol=1e-12)


def test_weight_gradient_is_sum_of_eps_times_input():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(0, 1, size=(20, 2, 5)))
    fc = nn.Linear(5, 4, bias=False).double()
    nn.init.uniform_(fc.weight, 0.0, 0.2)
    errors = rng.normal(size=(20, 2, 4))
    neuron = snx.BPSTALeaky().double()
    spk, _ = run(neuron, fc(x))
    (spk * torch.tensor(errors)).sum().backward()
    currents = (x @ fc.weight.T).detach().numpy()
    o, _, eps = reference(currents, errors, True, True, float(neuron.beta), 0.5,
                          float(neuron.alpha))
    assert o.sum() > 10
    expected = np.einsum("tbo,tbi->oi", eps, x.numpy())
    np.testing.assert_allclose(fc.weight.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


# --- forward and snnTorch behaviour --------------------------------------------------------------

@pytest.mark.parametrize("spatial,temporal", [(True, True), (True, False), (False, False)])
def test_forward_equals_snn_leaky_zero_reset(sequence, spatial, temporal):
    currents = torch.tensor(sequence[0])
    ours = run(snx.BPSTALeaky(beta=0.8, threshold=0.4, spatial=spatial, temporal=temporal),
               currents)
    stock = run(snn.Leaky(beta=0.8, threshold=0.4, reset_mechanism="zero"), currents)
    assert torch.equal(ours[0], stock[0].to(ours[0].dtype))
    assert torch.equal(ours[1], stock[1])


def test_bpsa_surrogate_values():
    z = torch.tensor([-0.2, 0.0, 0.5, 1.5], requires_grad=True)
    spk = snx.surrogate.bpsa(threshold=0.5)(z)
    spk.sum().backward()
    assert spk.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert torch.allclose(z.grad, torch.tensor([0.0, 0.0, 1.0, 0.5]))
    assert repr(snx.surrogate.bpsa(0.25)) == "bpsa(threshold=0.25)"
    pickle.loads(pickle.dumps(snx.surrogate.bpsa(0.5)))


def test_learnable_threshold_keeps_bpsa_in_sync():
    neuron = snx.BPSTALeaky(threshold=0.5, learn_threshold=True)
    with torch.no_grad():
        neuron.threshold.fill_(0.25)
    x = torch.tensor([[0.3, 0.8, 0.2]], requires_grad=True)
    spk, _ = neuron(x, neuron.init_leaky())
    spk.sum().backward()
    assert spk.tolist() == [[1.0, 1.0, 0.0]]
    assert torch.allclose(x.grad, torch.tensor([[1 / 0.3, 1 / 0.8, 0.0]]))
    assert torch.allclose(neuron.threshold.grad, torch.tensor(-(1 / 0.3 + 1 / 0.8)))


def test_learn_beta_gets_a_gradient():
    neuron = snx.BPSTALeaky(learn_beta=True)
    spk, _ = run(neuron, torch.full((6, 1, 2), 0.3))
    spk.sum().backward()
    assert isinstance(neuron.beta, nn.Parameter) and neuron.beta.grad is not None


def test_init_hidden_output_and_resets():
    neuron = snx.BPSTALeaky(init_hidden=True)
    spk = neuron(torch.ones(2, 3))
    assert isinstance(spk, torch.Tensor) and spk.sum() == 6
    assert torch.equal(neuron.mem, torch.ones(2, 3))     # the reset happens at the next step
    snx.utils.reset(neuron)
    assert neuron.mem.abs().sum() == 0
    neuron(torch.full((2, 3), 0.2))
    snntorch.utils.reset(nn.Sequential(neuron))
    assert neuron.mem.abs().sum() == 0
    neuron(torch.full((2, 3), 0.2))
    snx.BPSTALeaky.reset_hidden()
    assert neuron.mem.abs().sum() == 0
    both = snx.BPSTALeaky(init_hidden=True, output=True)(torch.ones(1, 2))
    assert isinstance(both, tuple) and len(both) == 2


def test_state_dict_copy_and_pickle():
    neuron = snx.BPSTALeaky(alpha=0.2, learn_threshold=True)
    assert {"alpha", "beta", "threshold"} <= set(neuron.state_dict())
    twin = copy.deepcopy(neuron)
    with torch.no_grad():
        twin.threshold.fill_(0.1)
    assert float(neuron.threshold.detach()) == 0.5
    x = torch.tensor([[0.2]], requires_grad=True)
    twin(x, twin.init_leaky())[0].sum().backward()
    assert torch.allclose(x.grad, torch.tensor([[5.0]]))   # the copy reads its own threshold
    restored = pickle.loads(pickle.dumps(neuron))
    assert float(restored.alpha) == pytest.approx(0.2)


def test_dtype_and_device_are_kept():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    neuron = snx.BPSTALeaky().to(device)
    x = torch.rand(5, 2, 3, dtype=torch.float64, device=device, requires_grad=True)
    spk, mem = run(neuron, x * 2)
    assert spk.dtype == mem.dtype == torch.float64 and spk.device.type == device
    spk.sum().backward()
    assert x.grad.dtype == torch.float64
    vote = snx.Voting(3, 1)(spk)
    assert vote.dtype == torch.float64
    drop = snx.TimeSharedDropout(0.5)(spk)
    assert drop.dtype == torch.float64 and drop.device.type == device


# --- Voting, dropout -----------------------------------------------------------------------------

def test_voting_averages_groups():
    x = torch.arange(12.0).reshape(1, 12)
    assert snx.Voting(3, 4)(x).tolist() == [[1.5, 5.5, 9.5]]
    assert snx.Voting(3, 4)(torch.zeros(7, 2, 12)).shape == (7, 2, 3)


def test_time_shared_dropout():
    torch.manual_seed(0)
    drop = snx.TimeSharedDropout(p=0.5)
    y = drop(torch.ones(6, 400, 10))
    assert torch.equal(y, y[0].expand_as(y))                 # the same mask at every step
    assert set(y.unique().tolist()) == {0.0, 2.0}            # inverted dropout
    assert 0.4 < float((y[0] == 0).float().mean()) < 0.6
    assert not torch.equal(y[0, 0], y[0, 1])                 # one mask per sample
    drop.eval()
    x = torch.rand(3, 2, 4)
    assert torch.equal(drop(x), x)
    assert drop.multi_step is True


def test_dropout_in_spiking_sequential_is_shared_over_time():
    torch.manual_seed(1)
    net = snx.SpikingSequential(nn.Identity(), snx.TimeSharedDropout(0.5))
    y = net(torch.ones(5, 3, 8))
    assert torch.equal(y, y[:1].expand_as(y))


# --- networks ------------------------------------------------------------------------------------

def test_networks_follow_table_1():
    small = snx.models.bpsta_small()
    kinds = [type(m).__name__ for m in small]
    convs = [m.out_channels for m in small if isinstance(m, nn.Conv2d)]
    linears = [m.out_features for m in small if isinstance(m, nn.Linear)]
    assert convs == [128, 128, 256] and linears == [4096, 100]
    assert kinds.count("MaxPool2d") == 2 and kinds.count("TimeSharedDropout") == 1
    assert kinds[:4] == ["Conv2d", "BatchNorm2d", "ReLU", "BPSTALeaky"]
    assert kinds[-4:] == ["TimeSharedDropout", "Linear", "BPSTALeaky", "Voting"]
    middle = snx.models.bpsta_middle()
    assert [m.out_channels for m in middle if isinstance(m, nn.Conv2d)] == [128, 128, 256, 512]
    assert [m.out_features for m in middle if isinstance(m, nn.Linear)] == [512, 100]
    assert [m.kernel_size for m in middle if isinstance(m, nn.AvgPool2d)] == [4]
    assert not any(isinstance(m, snx.TimeSharedDropout) for m in middle)
    large = snx.models.bpsta_large(num_classes=11)
    assert [m.out_channels for m in large if isinstance(m, nn.Conv2d)] == [
        128, 128, 128, 256, 512, 1024]
    assert [m.out_features for m in large if isinstance(m, nn.Linear)] == [1024, 110]
    assert [m.kernel_size for m in large if isinstance(m, nn.AvgPool2d)] == [2, 2, 2, 2, 4]


@pytest.mark.parametrize("builder,channels,size,in_ch", [
    ("bpsta_small", (4, 4, 8), 28, 1),
    ("bpsta_middle", (4, 4, 8, 8), 34, 2),
    ("bpsta_large", (4, 4, 4, 4, 4, 8), 64, 2),
])
def test_networks_run_on_sequences(builder, channels, size, in_ch):
    net = getattr(snx.models, builder)(in_ch, 5, channels=channels, hidden=16, size=size,
                                       neurons_per_class=2)
    out = net(torch.rand(2, 3, in_ch, size, size))
    assert out.shape == (2, 3, 5)
    out.sum().backward()


# --- training in an ordinary snnTorch loop -------------------------------------------------------

def test_small_model_trains_in_a_plain_snntorch_loop():
    torch.manual_seed(0)
    x = torch.rand(64, 6)
    labels = (x[:, :3].sum(1) > x[:, 3:].sum(1)).long()
    fc1, lif1 = nn.Linear(6, 32), snx.BPSTALeaky()
    fc2, lif2, vote = nn.Linear(32, 20), snx.BPSTALeaky(), snx.Voting(2, 10)
    params = [*fc1.parameters(), *fc2.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-2, weight_decay=1e-4)
    loss_fn = snn.functional.mse_count_loss(correct_rate=1.0, incorrect_rate=0.0)

    def forward():
        mem1, mem2, out = lif1.init_leaky(), lif2.init_leaky(), []
        for _ in range(8):
            spk1, mem1 = lif1(fc1(x), mem1)
            spk2, mem2 = lif2(fc2(spk1), mem2)
            out.append(vote(spk2))
        return torch.stack(out)

    with torch.no_grad():
        first = float(loss_fn(forward(), labels))
    for _ in range(60):
        loss = loss_fn(forward(), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        out = forward()
    assert float(loss_fn(out, labels)) < first / 2
    assert float((out.mean(0).argmax(1) == labels).float().mean()) >= 0.9


# --- energy --------------------------------------------------------------------------------------

def test_synaptic_ops_and_energy_by_hand():
    net = snx.SpikingSequential(nn.Conv2d(1, 2, 3, padding=1), snn.Leaky(beta=0.5,
                                init_hidden=True), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    x = torch.zeros(4, 2, 1, 4, 4)
    x[:, :, :, :2] = 1.0                          # half the pixels are non-zero
    with snx.metrics.SynapticOps(net) as ops, snx.metrics.FiringRates(net) as rates:
        net(x)
    flops = ops.flops()
    assert flops == {"0": 2 * 16 * 9, "3": 32 * 3}
    input_rates = ops.input_rates()
    assert input_rates["0"] == 0.5
    assert input_rates["3"] == pytest.approx(rates.per_layer()["1"])
    result = snx.metrics.energy(flops, input_rates, num_steps=4)
    e_snn = 0.1 * 4 * (288 * 0.5 + 96 * input_rates["3"])   # Eq. 11's 32-bit integer add
    assert result["e_ann_pj"] == pytest.approx(4.6 * 384)
    assert result["e_snn_pj"] == pytest.approx(e_snn)
    assert result["ratio"] == pytest.approx(4.6 * 384 / e_snn)
    assert set(result["layers"]) == {"0", "3"}
    custom = snx.metrics.energy({"a": 10}, {"a": 0.5}, 2, e_mac=2.0, e_ac=1.0)
    assert custom["ratio"] == pytest.approx(20 / 10)
    assert snx.metrics.energy({"a": 10}, {"a": 0.0}, 2)["ratio"] == float("inf")


# Table 6 of Shen et al.: (dataset, firing rate, E_ANN / E_SNN), ours then the baseline's.
TABLE6 = [("MNIST", 0.082, 35.1), ("MNIST", 0.183, 15.7), ("N-MNIST", 0.097, 29.6),
          ("N-MNIST", 0.176, 16.3), ("CIFAR10", 0.108, 26.6), ("CIFAR10", 0.214, 13.4),
          ("DVS-Gesture", 0.083, 34.6), ("DVS-Gesture", 0.165, 17.4),
          ("DVS-CIFAR10", 0.097, 29.5), ("DVS-CIFAR10", 0.177, 16.2)]


@pytest.mark.parametrize("dataset,rate,ratio", TABLE6)
def test_energy_defaults_reproduce_table6_from_its_firing_rates(dataset, rate, ratio):
    """Eq. 11 with E_MAC = 4.6 pJ, E_INT_AC = 0.1 pJ and T = 16 gives every Table 6 ratio."""
    result = snx.metrics.energy({"net": 1_000_000}, {"net": rate}, num_steps=16)
    assert result["ratio"] == pytest.approx(ratio, rel=0.01), dataset
    assert result["e_ac_pj"] == snx.metrics.E_INT_AC_PJ == 0.1
    floating = snx.metrics.energy({"net": 1_000_000}, {"net": rate}, 16,
                                  e_ac=snx.metrics.E_AC_PJ)
    assert floating["ratio"] == pytest.approx(ratio / 9, rel=0.01)


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,word", [
    ({"threshold": 0.0}, "threshold"),
    ({"threshold": -0.5}, "threshold"),
    ({"threshold": float("nan")}, "threshold"),
    ({"alpha": -0.1}, "alpha"),
    ({"alpha": float("inf")}, "alpha"),
    ({"beta": 1.5}, "beta"),
    ({"beta": torch.tensor([0.5, -0.1])}, "beta"),
    ({"spike_grad": snx.surrogate.rectangular()}, "spike_grad"),
    ({"reset_mechanism": "subtract"}, "reset_mechanism"),
])
def test_bad_neuron_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        snx.BPSTALeaky(**kwargs)


def test_baseline_allows_any_finite_threshold_and_spike_grad():
    snx.BPSTALeaky(threshold=0.0, spatial=False, temporal=False,
                   spike_grad=snx.surrogate.rectangular(0.5))


@pytest.mark.parametrize("threshold", [0, -1.0, float("nan"), "a"])
def test_bad_bpsa_threshold(threshold):
    with pytest.raises(ValueError, match="threshold"):
        snx.surrogate.bpsa(threshold)


def test_bad_shapes_and_sizes():
    neuron = snx.BPSTALeaky()
    with pytest.raises(ValueError, match="mem"):
        neuron(torch.ones(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="num_classes \\* neurons_per_class"):
        snx.Voting(10, 10)(torch.ones(2, 99))
    for args in [(0, 10), (10, 0), (2.5, 1)]:
        with pytest.raises(ValueError):
            snx.Voting(*args)
    for p in [1.0, -0.1, float("nan")]:
        with pytest.raises(ValueError, match="p"):
            snx.TimeSharedDropout(p)
    with pytest.raises(ValueError, match="x"):
        snx.TimeSharedDropout(0.5)(torch.ones(3))
    with pytest.raises(ValueError, match="channels"):
        snx.models.bpsta_small(channels=(8, 8))
    with pytest.raises(ValueError, match="size"):
        snx.models.bpsta_large(size=32)
    with pytest.raises(ValueError, match="dropout"):
        snx.models.bpsta_small(dropout=1.0)
    with pytest.raises(ValueError, match="flops and rates"):
        snx.metrics.energy({"a": 1}, {"b": 0.1}, 4)
    with pytest.raises(ValueError, match="rates"):
        snx.metrics.energy({"a": 1}, {"a": 1.5}, 4)
    with pytest.raises(ValueError, match="num_steps"):
        snx.metrics.energy({"a": 1}, {"a": 0.5}, 0)


# --- recipes --------------------------------------------------------------------------------------

def test_recipes_are_the_papers_rows():
    recipes = snx.recipes.all_recipes()
    expected = ["bpsta-mnist", "bpsta-cifar10", "bpsta-nmnist", "bpsta-dvsgesture",
                "bpsta-cifar10dvs", "bpsta-ablation-baseline", "bpsta-ablation-bpsa",
                "bpsta-ablation-bpsta"]
    expected += [f"bpsta-latency-{rule}-t{t}" for rule in ("baseline", "bpsa", "bpsta")
                 for t in (4, 8, 16, 32)]
    assert set(expected) <= set(recipes)
    for name in expected:
        recipe = recipes[name]
        assert recipe.optimizer == "torch.optim:AdamW"
        assert recipe.optimizer_kwargs == {"lr": 1e-3, "weight_decay": 1e-4}
        assert recipe.schedule == "cosine" and recipe.schedule_kwargs == {"warmup_epochs": 5}
        assert recipe.epochs == 300 and recipe.neuron == "snntorch_ext:BPSTALeaky"
        assert recipe.num_steps == (16 if "latency" not in name else int(name.split("-t")[-1]))
    rules = {name: recipes[f"bpsta-ablation-{name}"] for name in ("baseline", "bpsa", "bpsta")}
    assert rules["baseline"].spike_grad == "snntorch_ext.surrogate:rectangular"
    assert [(r.neuron_kwargs["spatial"], r.neuron_kwargs["temporal"]) for r in rules.values()] == [
        (False, False), (True, False), (True, True)]
    assert recipes["bpsta-mnist"].network == "snntorch_ext.models:bpsta_small"
    assert recipes["bpsta-cifar10"].network == "snntorch_ext.models:bpsta_middle"
    assert recipes["bpsta-dvsgesture"].network == "snntorch_ext.models:bpsta_large"
    assert recipes["bpsta-dvsgesture"].num_classes == 11


@pytest.mark.parametrize("name", ["bpsta-mnist", "bpsta-nmnist", "bpsta-ablation-baseline"])
def test_quick_variants_build_and_run(name):
    recipe = snx.recipes.get(name).quick_variant()
    in_channels = 2 if "nmnist" in recipe.dataset else 1
    size = 34 if in_channels == 2 else 28
    model = snx.engine.build_model(recipe, in_channels)
    out = model(torch.rand(2, 2, in_channels, size, size))
    assert out.shape == (2, 2, recipe.num_classes)
    loss = snx.recipes.resolve(recipe.loss)(**recipe.loss_kwargs)(out, torch.tensor([1, 2]))
    assert loss.dim() == 0


# --- fully connected layers with batch norm (fc_norm) --------------------------------------------

def test_fc_norm_builds_every_fc_layer_as_linear_bn_relu_lif():
    net = snx.models.bpsta_middle(2, 10, size=34, channels=(4, 4, 8, 8), hidden=16,
                                  neurons_per_class=3, fc_norm=True)
    layers = list(net)
    linears = [i for i, m in enumerate(layers) if isinstance(m, nn.Linear)]
    assert len(linears) == 2  # the hidden FC layer and the voting layer's
    for i in linears:
        assert layers[i].bias is None
        assert [type(m) for m in layers[i + 1:i + 4]] == [nn.BatchNorm1d, nn.ReLU, snx.BPSTALeaky]
    plain = list(snx.models.bpsta_middle(2, 10, size=34, channels=(4, 4, 8, 8), hidden=16))
    assert not any(isinstance(m, nn.BatchNorm1d) for m in plain)
    assert net(torch.rand(2, 3, 2, 34, 34)).shape == (2, 3, 10)
    with pytest.raises(ValueError, match="fc_norm"):
        snx.models.bpsta_small(fc_norm="yes")


def _never_firing_fc_fraction(recipe) -> list[float]:
    """Per FC spiking layer, the fraction of neurons silent for a whole batch of event counts."""
    torch.manual_seed(0)
    net = snx.engine.build_model(recipe, 2).train().network
    layers = list(net)
    fc_neurons = [m for i, m in enumerate(layers) if isinstance(m, snx.BPSTALeaky)
                  and any(isinstance(p, nn.Linear) for p in layers[max(i - 3, 0):i])]
    counts = {}
    hooks = [m.register_forward_hook(
        lambda mod, _, spk: counts.__setitem__(mod, counts.get(mod, 0) + spk.detach()))
        for m in fc_neurons]
    events = torch.poisson(torch.full((8, 64, 2, 34, 34), 0.4),
                           generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        net(events)
    for hook in hooks:
        hook.remove()
    return [float((counts[m].sum(0) == 0).float().mean()) for m in fc_neurons]


def test_quick_event_recipe_keeps_fc_neurons_firing():
    # With BPSA a neuron that never fires gets no gradient. Built as Linear-LIF, about half of
    # the FC neurons of the quick event network were silent for every sample from the start.
    recipe = snx.recipes.get("bpsta-nmnist").quick_variant()
    assert max(_never_firing_fc_fraction(recipe)) < 0.05
    old = dataclasses.replace(recipe, network_kwargs={**recipe.network_kwargs, "fc_norm": False})
    assert min(_never_firing_fc_fraction(old)) > 0.3
