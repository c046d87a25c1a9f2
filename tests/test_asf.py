"""Accumulated spiking flow (Wu et al., AAAI 2021): the wrapper, its loss, encoder and networks."""

from __future__ import annotations

import numpy as np
import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_ext as snx
from snntorch_ext import asf as asf_module
from snntorch_ext.asf import _FlowNode, flow_ratio


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread is faster, and immune to a machine shared by other jobs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

# ---------------------------------------------------------------------------------------------
# An independent float64 NumPy computation of the accumulated-flow rule (SPEC section 3)
# ---------------------------------------------------------------------------------------------


def np_simulate(x, w1, b1, w2, b2, beta, thr):
    """Leaky neurons with reset to zero, as snn.Leaky(reset_mechanism="zero") steps them."""
    steps, batch, _ = x.shape
    u = np.zeros((batch, w1.shape[0]))
    o = np.zeros_like(u)
    fi, fo, v = np.zeros_like(u), np.zeros_like(u), np.zeros((batch, w2.shape[0]))
    for t in range(steps):
        current = x[t] @ w1.T + b1
        u = beta * (1.0 - o) * u + current
        o = (u > thr).astype(np.float64)
        fi += current
        fo += o
        v += o @ w2.T + b2
    return fi, fo, v


def np_batch_ratio(fi, fo):
    kept = fi >= fo
    total_in = fi[kept].sum()
    return 1.0 if total_in < 1e-3 else fo[kept].sum() / total_in


def np_asf_step(x, w1, b1, w2, b2, labels, ratio, *, beta, thr, thr_out, momentum, train=True,
                select=True, mask=True):
    """Output, loss, new ratio and the ASF gradients of the two-layer net (paper Eq. 5-9)."""
    steps, batch, _ = x.shape
    fi, fo, v = np_simulate(x, w1, b1, w2, b2, beta, thr)
    batch_ratio = np_batch_ratio(fi, fo) if select else fo.sum() / fi.sum()
    if train:
        ratio = (1 - momentum) * ratio + momentum * batch_ratio
    out = v / (steps * thr_out)
    target = np.eye(w2.shape[0])[labels]
    loss = 0.5 * ((target - out) ** 2).sum(1).mean()
    d_fi2 = (out - target) / batch / (steps * thr_out)          # dL/dFI^N, Eq. 7
    d_fo1 = d_fi2 @ w2                                          # dL/dFO^{N-1}
    d_fi1 = d_fo1 * ratio * ((fi > 0) if mask else 1.0)         # Eq. 8 with 1[FI > 0]
    fo0 = x.sum(0)                                              # input counts
    grads = {"w1": d_fi1.T @ fo0, "b1": steps * d_fi1.sum(0),   # a bias adds T*b to FI
             "w2": d_fi2.T @ fo, "b2": steps * d_fi2.sum(0)}
    return out, loss, ratio, grads, (fi, fo)


def two_layer(w1, b1, w2, b2, beta, thr):
    net = nn.Sequential(nn.Linear(w1.shape[1], w1.shape[0], bias=b1 is not None),
                        snn.Leaky(beta=beta, threshold=thr, reset_mechanism="zero",
                                  init_hidden=True),
                        nn.Linear(w2.shape[1], w2.shape[0], bias=b2 is not None)).double()
    with torch.no_grad():
        for layer, w, b in ((net[0], w1, b1), (net[2], w2, b2)):
            layer.weight.copy_(torch.from_numpy(w))
            if b is not None:
                layer.bias.copy_(torch.from_numpy(b))
    return net


def hand_case(bias: bool):
    rng = np.random.default_rng(3)
    steps, batch = 7, 3
    x = (rng.random((steps, batch, 5)) < 0.5).astype(np.float64)
    w1 = rng.normal(0.0, 0.6, (6, 5))
    w1[0] = -np.abs(w1[0])       # a unit that gets only negative input: FI < 0, masked
    w1[1] = np.abs(w1[1]) + 0.6  # a unit driven hard: fires more often than FI (excluded from S)
    w2 = rng.normal(0.0, 0.5, (4, 6))
    b1 = rng.normal(0.0, 0.1, 6) if bias else np.zeros(6)
    b2 = rng.normal(0.0, 0.1, 4) if bias else np.zeros(4)
    labels = np.array([1, 3, 0])
    return x, w1, b1, w2, b2, labels


@pytest.mark.parametrize("bias", [False, True])
def test_output_loss_ratio_and_gradients_equal_hand_computation(bias):
    x, w1, b1, w2, b2, labels = hand_case(bias)
    beta, thr, thr_out, momentum = 0.9, 0.5, 2.0, 0.6
    net = two_layer(w1, b1 if bias else None, w2, b2 if bias else None, beta, thr)
    model = snx.ASF(net, num_steps=x.shape[0], output_threshold=thr_out,
                    ratio_momentum=momentum).double()
    loss_fn = snx.functional.asf_mse_loss()
    ratio = 1.0
    for _ in range(2):  # two training steps: the momentum update starts at S = 1, then moves on
        out, loss, ratio, grads, (fi, fo) = np_asf_step(
            x, w1, b1, w2, b2, labels, ratio, beta=beta, thr=thr, thr_out=thr_out,
            momentum=momentum)
        net.zero_grad()
        out_t = model(torch.from_numpy(x))
        loss_t = loss_fn(out_t, torch.from_numpy(labels))
        loss_t.backward()
        np.testing.assert_allclose(out_t.detach().numpy(), out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(loss_t.item(), loss, rtol=1e-12)
        np.testing.assert_allclose(model.ratios.item(), ratio, rtol=1e-6)  # float32 buffer
        np.testing.assert_allclose(net[0].weight.grad.numpy(), grads["w1"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(net[2].weight.grad.numpy(), grads["w2"], rtol=1e-12,
                                   atol=1e-12)
        if bias:
            np.testing.assert_allclose(net[0].bias.grad.numpy(), grads["b1"], rtol=1e-6,
                                       atol=1e-9)
            np.testing.assert_allclose(net[2].bias.grad.numpy(), grads["b2"], rtol=1e-12)
    # the case exercises every part of the rule: each variant below gives other gradients
    assert (fi < 0).any() and (fi < fo).any() and (fo > 0).any() and ratio != 1.0
    for variant in ({"select": False}, {"mask": False}, {"train": False}):
        other = np_asf_step(x, w1, b1, w2, b2, labels, 1.0, beta=beta, thr=thr,
                            thr_out=thr_out, momentum=momentum, **variant)[3]["w1"]
        first = np_asf_step(x, w1, b1, w2, b2, labels, 1.0, beta=beta, thr=thr,
                            thr_out=thr_out, momentum=momentum)[3]["w1"]
        assert not np.allclose(other, first), variant


def test_silent_layer_takes_ratio_one_through_the_guard():
    x, w1, b1, w2, b2, labels = hand_case(False)
    w1 = -np.abs(w1)  # every unit gets negative input: no element with FI >= FO and FI > 0
    model = snx.ASF(two_layer(w1, None, w2, None, 1.0, 1.0), num_steps=x.shape[0],
                    ratio_momentum=0.6).double()
    model.ratios.fill_(0.5)
    model(torch.from_numpy(x))
    assert model.ratios.item() == pytest.approx(0.4 * 0.5 + 0.6 * 1.0)


def test_flow_ratio_selection_and_guard():
    fi = torch.tensor([4.0, 2.0, -1.0, 1.0])
    fo = torch.tensor([2.0, 1.0, 0.0, 3.0])  # the last unit (FI < FO) and its count are left out
    assert flow_ratio(fi, fo).item() == pytest.approx(3.0 / 6.0)
    assert flow_ratio(torch.tensor([5e-4, -2.0]), torch.zeros(2)).item() == 1.0
    assert flow_ratio(torch.tensor([2e-3]), torch.zeros(1)).item() == 0.0


def test_flow_node_matches_plain_autograd_straight_through():
    torch.manual_seed(0)
    fi = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    fo = torch.rand(4, 5, dtype=torch.float64)
    ratio = torch.tensor(0.7, dtype=torch.float64)
    grad = torch.randn(4, 5, dtype=torch.float64)
    node = _FlowNode.apply(fi, fo, fi.detach() > 0, ratio)
    (custom,) = torch.autograd.grad(node, fi, grad)
    plain = fo + ratio * (fi.detach() > 0) * (fi - fi.detach())
    (reference,) = torch.autograd.grad(plain, fi, grad)
    torch.testing.assert_close(node, fo, rtol=0, atol=0)
    torch.testing.assert_close(custom, reference, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# Cost: nothing saved for backward depends on T
# ---------------------------------------------------------------------------------------------


def saved_bytes(model: nn.Module, x: torch.Tensor) -> int:
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = model(x)
    out.sum().backward()
    return total


def test_saved_bytes_do_not_grow_with_time_steps():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), snn.Leaky(beta=1.0, init_hidden=True),
                        nn.AvgPool2d(2), snn.Leaky(beta=1.0, threshold=0.75, init_hidden=True),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 8), snn.Leaky(
                            beta=0.9, init_hidden=True), nn.Linear(8, 3, bias=False))
    image = torch.rand(2, 1, 10, 10) * 4
    short = saved_bytes(snx.ASF(net, num_steps=8), snx.functional.signed_poisson(image, 8))
    long = saved_bytes(snx.ASF(net, num_steps=64), snx.functional.signed_poisson(image, 64))
    bptt = [saved_bytes(lambda x: snx.SpikingSequential(*net)(x).mean(0),
                        snx.functional.signed_poisson(image, steps)) for steps in (8, 64)]
    assert short == long > 0
    assert bptt[1] > 4 * bptt[0]  # the counter sees what ordinary BPTT keeps per step


# ---------------------------------------------------------------------------------------------
# The wrapper's behaviour
# ---------------------------------------------------------------------------------------------


def small_net(beta: float = 1.0) -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(6, 8, bias=False),
                         snn.Leaky(beta=beta, threshold=0.5, init_hidden=True),
                         nn.Linear(8, 3, bias=False))


def test_output_is_the_accumulated_output_current_of_snntorch_simulation():
    net = small_net(beta=0.8)  # snnTorch's default subtract reset, a LIF: any Leaky works
    x = (torch.rand(9, 4, 6) < 0.4).float()
    out = snx.ASF(net, num_steps=9, output_threshold=1.5)(x)
    reference = snx.SpikingSequential(*net)(x).sum(0) / (9 * 1.5)
    torch.testing.assert_close(out, reference)


def test_output_value_is_exact_with_max_pooling_before_the_output_layer():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, bias=False),
                        snn.Leaky(beta=1.0, threshold=0.3, init_hidden=True),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2, bias=False))
    x = (torch.rand(6, 2, 1, 6, 6) < 0.5).float()
    out = snx.ASF(net, num_steps=6)(x)
    torch.testing.assert_close(out, snx.SpikingSequential(*net)(x).mean(0))
    out.sum().backward()
    assert net[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("beta, threshold, graded", [(1.0, 1.0, 1.0), (0.8, 0.3, 2.0)])
def test_fused_leaky_step_is_bitwise_the_snntorch_forward(reset, beta, threshold, graded):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), snn.Leaky(beta=beta, threshold=threshold,
                                                   reset_mechanism=reset, init_hidden=True,
                                                   graded_spikes_factor=graded),
                        nn.Linear(7, 3)).double()
    x = torch.randn(12, 4, 5, dtype=torch.float64)
    model = snx.ASF(net, num_steps=12)
    assert asf_module._fusable(net[1])
    fused_flows, fused_v = model._simulate(x)
    fused_mem = net[1].mem.clone()
    handle = net[1].register_forward_hook(lambda *args: None)  # hooks force the module call
    assert not asf_module._fusable(net[1])
    called_flows, called_v = model._simulate(x)
    handle.remove()
    assert fused_flows[0][1].sum() > 0
    for fused, called in zip((*fused_flows[0], fused_v, fused_mem),
                             (*called_flows[0], called_v, net[1].mem), strict=True):
        torch.testing.assert_close(fused, called, rtol=0, atol=0)


def test_batch_input_is_repeated_over_time():
    model = snx.ASF(small_net(), num_steps=5)
    x = torch.rand(4, 6)
    torch.testing.assert_close(model(x), model(x.expand(5, 4, 6)))


def test_eval_mode_keeps_ratios_and_state_dict_round_trip_keeps_them():
    model = snx.ASF(small_net(), num_steps=6)
    x = torch.rand(6, 5, 6) * 2
    model(x)
    trained = model.ratios.clone()
    assert trained.item() != 1.0
    model.eval()
    model(x).sum().backward()
    torch.testing.assert_close(model.ratios, trained, rtol=0, atol=0)
    state = model.state_dict()
    assert "ratios" in state
    fresh = snx.ASF(small_net(), num_steps=6)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.ratios, trained, rtol=0, atol=0)


def test_eval_under_no_grad_gives_the_same_output():
    model = snx.ASF(small_net(), num_steps=6).eval()
    x = torch.rand(6, 3, 6) * 2
    with torch.no_grad():
        plain = model(x)
    torch.testing.assert_close(plain, model(x).detach())


def test_eval_batchnorm_runs_and_train_batchnorm_is_refused():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2),
                        snn.Leaky(beta=1.0, init_hidden=True), nn.Flatten(), nn.Linear(8, 2))
    x = torch.rand(4, 3, 1, 4, 4)
    model = snx.ASF(net, num_steps=4)
    with pytest.raises(ValueError, match=r"net\[1\] \(BatchNorm2d\)"):
        model(x)
    net[1].eval()
    torch.testing.assert_close(model(x), snx.SpikingSequential(*net)(x).mean(0))


@pytest.mark.parametrize("modules, match", [
    ([nn.Linear(2, 2), nn.Dropout(0.5), nn.Linear(2, 2)], r"net\[1\] \(Dropout\)"),
    ([nn.Linear(2, 2), snn.Leaky(beta=1.0, init_hidden=True)], r"net\[1\] \(Leaky\).*last"),
    ([nn.Linear(2, 2), snn.Leaky(beta=1.0), nn.Linear(2, 2)], "init_hidden=True"),
    ([nn.Linear(2, 2), snn.Leaky(beta=1.0, init_hidden=True, learn_threshold=True),
      nn.Linear(2, 2)], "learn_threshold"),
    ([nn.Linear(2, 2), snn.Synaptic(alpha=0.5, beta=1.0, init_hidden=True), nn.Linear(2, 2)],
     r"net\[1\] \(Synaptic\)"),
    ([nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)], r"net\[1\] \(ReLU\)"),
])
def test_modules_it_cannot_run_on_counts_are_named(modules, match):
    with pytest.raises(ValueError, match=match):
        snx.ASF(nn.Sequential(*modules), num_steps=4)


def test_bad_arguments_and_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="net must be an nn.Sequential"):
        snx.ASF(nn.Linear(2, 2), num_steps=4)
    with pytest.raises(ValueError, match="num_steps"):
        snx.ASF(small_net(), num_steps=0)
    with pytest.raises(ValueError, match="output_threshold"):
        snx.ASF(small_net(), num_steps=4, output_threshold=0.0)
    with pytest.raises(ValueError, match="ratio_momentum"):
        snx.ASF(small_net(), num_steps=4, ratio_momentum=1.5)
    model = snx.ASF(small_net(), num_steps=4)
    with pytest.raises(ValueError, match=r"x must be \[T, B, \.\.\.\]"):
        model(torch.rand(4, 2, 3, 6))
    with pytest.raises(ValueError, match="T=4"):
        model(torch.rand(5, 2, 6))
    with pytest.raises(ValueError, match="finite"):
        model(torch.full((4, 2, 6), float("nan")))
    leading_flatten = snx.ASF(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), num_steps=3)
    assert leading_flatten(torch.rand(3, 2, 2, 2)).shape == (2, 2)
    with pytest.raises(ValueError, match="time-major"):
        leading_flatten(torch.rand(2, 2, 2))


# ---------------------------------------------------------------------------------------------
# Loss and encoder
# ---------------------------------------------------------------------------------------------


def test_asf_mse_loss_value_targets_and_reductions():
    out = torch.tensor([[0.2, 0.9, -0.1], [0.5, 0.1, 0.3]])
    labels = torch.tensor([1, 2])
    onehot = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    per_sample = 0.5 * ((onehot - out) ** 2).sum(1)
    loss = snx.functional.asf_mse_loss()(out, labels)
    assert loss.dim() == 0
    torch.testing.assert_close(loss, per_sample.mean())
    torch.testing.assert_close(snx.functional.asf_mse_loss()(out, onehot), per_sample.mean())
    torch.testing.assert_close(snx.functional.asf_mse_loss("sum")(out, labels), per_sample.sum())
    torch.testing.assert_close(snx.functional.asf_mse_loss("none")(out, labels), per_sample)


def test_asf_mse_loss_bad_input():
    loss_fn = snx.functional.asf_mse_loss()
    with pytest.raises(ValueError, match="reduction"):
        snx.functional.asf_mse_loss("max")
    with pytest.raises(ValueError, match=r"outputs must be \[B, C\]"):
        loss_fn(torch.zeros(4, 2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="targets must be class labels"):
        loss_fn(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="targets must be class labels"):
        loss_fn(torch.zeros(2, 3), torch.zeros(3, 3))


def test_signed_poisson_signs_rates_dtype_and_generator():
    x = torch.tensor([-0.8, 0.0, 0.4, 1.0], dtype=torch.float64)
    spikes = snx.functional.signed_poisson(x, num_steps=4000, gain=0.5,
                                           generator=torch.Generator().manual_seed(0))
    assert spikes.shape == (4000, 4) and spikes.dtype == torch.float64
    assert set(spikes.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert (spikes[:, 0] <= 0).all() and (spikes[:, 1] == 0).all() and (spikes[:, 2:] >= 0).all()
    np.testing.assert_allclose(spikes.abs().mean(0).numpy(), [0.4, 0.0, 0.2, 0.5], atol=0.03)
    again = snx.functional.signed_poisson(x, num_steps=4000, gain=0.5,
                                          generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(spikes, again, rtol=0, atol=0)
    with pytest.raises(ValueError, match="gain"):
        snx.functional.signed_poisson(x, 4, gain=0)
    with pytest.raises(ValueError, match="num_steps"):
        snx.functional.signed_poisson(x, 0)
    with pytest.raises(ValueError, match="finite"):
        snx.functional.signed_poisson(torch.tensor([float("nan")]), 4)


# ---------------------------------------------------------------------------------------------
# Networks and recipes
# ---------------------------------------------------------------------------------------------


def test_asf_lenet_layout():
    net = snx.models.asf_lenet()
    convs = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert [m.weight.shape[0] for m in convs] == [20, 50, 200, 10]
    assert all(m.bias is None for m in convs)
    pooling_neurons = [net[i + 1] for i, m in enumerate(net) if isinstance(m, nn.AvgPool2d)]
    assert [float(n.threshold) for n in pooling_neurons] == [0.75, 0.75]
    assert all(float(n.beta) == 1.0 for n in snx.utils.neurons(net))
    assert snx.ASF(net, num_steps=2)(torch.rand(2, 3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match="size"):
        snx.models.asf_lenet(size=12)


def test_asf_vgg7_layout():
    net = snx.models.asf_vgg7(width=4, hidden=8, size=8)
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [4, 4, 8, 8, 16, 16]
    assert sum(isinstance(m, nn.AvgPool2d) for m in net) == 3
    assert snx.ASF(net, num_steps=2)(torch.rand(2, 2, 3, 8, 8)).shape == (2, 10)
    bound = 2.0 * (6.0 / 27) ** 0.5  # twice He-uniform by default: rates do not fade with depth
    assert bound / 2 < convs[0].weight.abs().max() <= bound
    with pytest.raises(ValueError, match="init_gain"):
        snx.models.asf_vgg7(init_gain=0.0)


def test_recipes_build_and_run_one_step():
    for name in ("asf-mnist-if", "asf-mnist-lif", "asf-cifar10"):
        recipe = snx.recipes.get(name).quick_variant()
        model = snx.engine.build_model(recipe, in_channels=1)
        encode = snx.recipes.resolve(recipe.encoder)
        x = encode(torch.rand(2, 1, 28, 28), 2, **recipe.encoder_kwargs)
        model.network.num_steps = 2
        out = model(x)
        loss = snx.recipes.resolve(recipe.loss)(**recipe.loss_kwargs)(out, torch.tensor([0, 1]))
        loss.backward()
        assert out.shape == (2, 10) and loss.dim() == 0
    full = snx.recipes.get("asf-mnist-if")
    assert (full.num_steps, full.epochs, full.batch_size) == (100, 125, 64)
    assert full.optimizer_kwargs == {"lr": 8.5e-4, "weight_decay": 5e-4}


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_per_neuron_beta_and_threshold_tensors_run_as_snntorch_steps_them(reset):
    torch.manual_seed(3)
    beta = torch.linspace(0.5, 1.0, 7, dtype=torch.float64)
    threshold = torch.linspace(0.2, 0.8, 7, dtype=torch.float64)
    net = nn.Sequential(nn.Linear(5, 7, bias=False),
                        snn.Leaky(beta=beta, threshold=threshold, reset_mechanism=reset,
                                  spike_grad=snx.surrogate.atan(),
                                  init_hidden=True), nn.Linear(7, 3, bias=False)).double()
    x = torch.rand(10, 4, 5, dtype=torch.float64)
    model = snx.ASF(net, num_steps=10)
    assert asf_module._fusable(net[1])
    out = model(x)
    reference = snx.SpikingSequential(*net)(x).sum(0) / 10
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-12)
    out.sum().backward()
    assert net[0].weight.grad.abs().sum() > 0


def test_psp_leaky_is_refused_because_it_passes_on_its_psp():
    net = nn.Sequential(nn.Linear(5, 7, bias=False), snx.PSPLeaky(init_hidden=True),
                        nn.Linear(7, 3, bias=False))
    with pytest.raises(ValueError, match=r"net\[1\] \(PSPLeaky\).*not spikes"):
        snx.ASF(net, num_steps=4)
