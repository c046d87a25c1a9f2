"""
Accumulated spiking flow
========================

Train a spiking network with the rule of Wu et al., "Training spiking neural networks with
accumulated spiking flow" (AAAI 2021). The network is simulated for ``T`` steps *without* an
autograd graph; the gradient is then computed once, on an *equivalent network* that maps spike
counts to spike counts. Backward has no loop over time, so what it keeps does not grow with
``T``.

This tutorial explains the equivalent network with a figure, trains the quick MNIST recipe with
:class:`snntorch_ext.ASF`, and measures its speed and memory against ordinary backpropagation
through time (BPTT) through the same snnTorch neurons.
"""

# %%
# Setup
# -----
# The quick variant runs on the CPU with the offline digits that ship with the install; with
# ``SNNTORCH_EXT_FULL=1`` the paper's settings run instead (full MNIST, ``T = 100``, 125
# epochs: a GPU job).

import os
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import snntorch as snn
import torch
from matplotlib.patches import FancyBboxPatch
from torch import nn

import snntorch_ext as snx
from snntorch_ext.comparison import PaperComparison

torch.manual_seed(0)
FULL = os.environ.get("SNNTORCH_EXT_FULL") == "1"
workdir = Path(tempfile.mkdtemp(prefix="snx-asf-"))

# %%
# From spike trains to spike counts
# ---------------------------------
# In a fully connected layer the input current is :math:`I^n(t) = W^n s^{n-1}(t)`. Summed over
# the simulation it only needs the *counts* of the previous layer (paper Eq. 6):
#
# .. math::
#
#     \mathcal{FI}^n = \sum_t I^n(t) = W^n \sum_t s^{n-1}(t) = W^n \mathcal{FO}^{n-1}.
#
# The output layer does not spike: it accumulates :math:`V^N(T) = \mathcal{FI}^N`, and the
# network's output is :math:`y = V^N(T) / (T V_{th})`. Between the summed input
# :math:`\mathcal{FI}^n` and the spike count :math:`\mathcal{FO}^n` of an integrate-and-fire
# layer the relation is close to linear, so ASF takes its slope, one ratio per layer
# :math:`\mathcal{S}^n = \sum \mathcal{FO}^n / \sum \mathcal{FI}^n`, as the derivative, with
# :math:`\mathbb{1}[\mathcal{FI}^n > 0]` as a mask:
#
# .. math::
#
#     \frac{\partial L}{\partial W^n} = \Big(\frac{\partial L}{\partial \mathcal{FO}^n}\,
#     \mathcal{S}^n\, \mathbb{1}[\mathcal{FI}^n > 0]\Big) \big(\mathcal{FO}^{n-1}\big)^{\top}.
#
# The figure puts the two computations side by side: the simulation unrolled over time (run
# with no graph), and the equivalent network on counts (run once, differentiated once).


def box(ax, x, y, text, colour):
    ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.2), 0.84, 0.4, boxstyle="round,pad=0.02",
                                facecolor=colour, edgecolor="k", linewidth=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def arrow(ax, start, end, colour="k"):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": colour})


fig, (ax_sim, ax_eq) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(1.6, 1))
layers = ["$s^0(t)$", "$W^1$", "IF", "$W^2$", "$V^2$"]
colours = ["#dddddd", "#cfe2f3", "#f4cccc", "#cfe2f3", "#d9ead3"]
for t, x in enumerate((0, 1.2, 2.4, 4.0)):
    for level, (name, colour) in enumerate(zip(layers, colours, strict=True)):
        box(ax_sim, x, 4 - level, name.replace("(t)", f"({t + 1})" if t < 3 else "(T)"), colour)
        if level:
            arrow(ax_sim, (x, 4 - level + 0.8), (x, 4 - level + 0.2))
    if t:
        arrow(ax_sim, (x - (1.2 if t < 3 else 1.6) + 0.42, 2), (x - 0.42, 2), "tab:red")
        arrow(ax_sim, (x - (1.2 if t < 3 else 1.6) + 0.42, 0), (x - 0.42, 0), "tab:green")
ax_sim.text(3.2, 2, "...", fontsize=14, ha="center", va="center")
ax_sim.set_title("simulation: T steps, torch.no_grad()\nrecord FI = sum I(t), FO = sum s(t)",
                 fontsize=9)
eq_layers = [r"$\mathcal{FO}^0 = \sum_t s^0(t)$", r"$\mathcal{FI}^1 = W^1 \mathcal{FO}^0$",
             "value $\\mathcal{FO}^1$\n" r"slope $\mathcal{S}^1 \mathbb{1}[\mathcal{FI}^1>0]$",
             r"$\mathcal{FI}^2 = W^2 \mathcal{FO}^1$", r"$y = \mathcal{FI}^2 / (T V_{th})$"]
for level, (name, colour) in enumerate(zip(eq_layers, colours, strict=True)):
    ax_eq.add_patch(FancyBboxPatch((-0.9, 4 - level - 0.3), 1.8, 0.6, boxstyle="round,pad=0.02",
                                   facecolor=colour, edgecolor="k", linewidth=0.8))
    ax_eq.text(0, 4 - level, name, ha="center", va="center", fontsize=8)
    if level:
        arrow(ax_eq, (0, 4 - level + 0.7), (0, 4 - level + 0.3))
ax_eq.set_title("equivalent network: one pass on counts\nbackward through it, no loop over time",
                fontsize=9)
for ax, width in ((ax_sim, (-0.6, 4.6)), (ax_eq, (-1.1, 1.1))):
    ax.set(xlim=width, ylim=(-0.5, 4.5))
    ax.axis("off")
fig.tight_layout()

# %%
# The wrapper
# -----------
# :class:`~snntorch_ext.ASF` wraps an ordinary ``nn.Sequential`` of per-step modules and
# snnTorch neurons with ``init_hidden=True``; ``snn.Leaky`` with ``beta=1`` is an IF neuron.
# It takes ``[T, B, ...]`` spikes and returns ``y`` of shape ``[B, C]``, the input of
# :class:`~snntorch_ext.functional.asf_mse_loss` (:math:`\tfrac12\lVert Y - y\rVert^2`,
# paper Eq. 5). The layer ratios are the buffer ``ratios``: updated with momentum 0.6 in
# training mode, frozen in eval mode, saved in the ``state_dict``.

net = nn.Sequential(nn.Flatten(), nn.Linear(784, 100, bias=False),
                    snn.Leaky(beta=1.0, reset_mechanism="zero", init_hidden=True),
                    nn.Linear(100, 10, bias=False))
nn.init.kaiming_uniform_(net[1].weight, nonlinearity="relu")
model = snx.ASF(net, num_steps=20)
x = snx.functional.signed_poisson(torch.rand(8, 1, 28, 28), num_steps=20)  # rate x/2
out = model(x)
loss = snx.functional.asf_mse_loss()(out, torch.randint(0, 10, (8,)))
loss.backward()
print(model)
print("output", tuple(out.shape), "loss", f"{loss.item():.4f}",
      "ratios", model.ratios.tolist())

# %%
# Train the quick MNIST recipe
# ----------------------------
# ``asf-mnist-if`` is the paper's MNIST row: 20C5-P2-50C5-P2-200FC-10FC without bias, IF
# neurons of threshold 1 with reset to zero, an IF "pooling neuron" of threshold 0.75 after
# each average pooling (:func:`~snntorch_ext.models.asf_lenet`), signed Poisson input at rate
# ``x/2``. The quick variant trains on the 4,000 offline digits with ``T = 20`` (the paper
# uses 100) for 8 epochs; on the command line::
#
#     snntorch-ext train asf-mnist-if --quick

recipe = snx.recipes.get("asf-mnist-if")
for key, value in recipe.quick.items():
    print(f"quick {key:17s} {value}")
run = workdir / "asf-mnist-if"
summary = snx.engine.cached_train(recipe, quick=not FULL, out=run, download=FULL,
                                  progress=False)
print(f"test accuracy {summary['test_acc']:.4f} after {summary['epochs']} epochs "
      f"({summary['seconds']:.0f} s)")

# %%
# The paper's MNIST row (its Fig. 3 table) beside this run; the quick run uses 4,000 digits,
# ``T = 20`` and 8 epochs instead of 60,000 digits, ``T = 100`` and 125 epochs.

accuracy = 100 * summary["test_acc"]
ours = {"full": accuracy} if FULL else {"quick": accuracy}  # the column of the variant that ran
table = PaperComparison(unit="% test accuracy")
table.add("ASF, IF neurons, MNIST", figure="Fig. 3 (20C5-P2-50C5-P2-200FC-10FC)", paper=99.65,
          **ours)
table

# %%
# What the trained network's hidden layer does: the count :math:`\mathcal{FO}` against the
# summed input :math:`\mathcal{FI}` of each unit on test digits (forward hooks on the neuron
# collect them over the time steps), and the slope :math:`\mathcal{S}` that ASF learned for
# that layer.

trained = recipe if FULL else recipe.quick_variant()
pipeline = snx.engine.build_model(trained, in_channels=1)
pipeline.load_state_dict(torch.load(run / "last.pt", weights_only=False)["model"])
asf = pipeline.network.eval()
hidden = [m for m in asf.net if isinstance(m, snn.Leaky)][-1]  # the 200-unit layer
flows = {"fi": 0.0, "fo": 0.0}


def record(module, inputs, output):
    flows["fi"] = flows["fi"] + inputs[0]
    flows["fo"] = flows["fo"] + output


handle = hidden.register_forward_hook(record)
test_set = snx.data.mnist_offline(snx.engine.default_data_root(), train=False)
images, labels = next(iter(torch.utils.data.DataLoader(test_set, batch_size=50)))
with torch.no_grad():
    asf(snx.functional.signed_poisson(images, trained.num_steps))
handle.remove()
ratio = float(asf.ratios[-1])
fi, fo = flows["fi"].flatten(), flows["fo"].flatten()
fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.scatter(fi, fo, s=3, alpha=0.3, label="units x digits")
line = torch.linspace(0, float(fi.max()), 2)
ax.plot(line, ratio * line, "r", label=f"ASF slope S = {ratio:.2f}")
ax.set(xlabel="summed input FI", ylabel="spike count FO",
       title=f"hidden layer, T = {trained.num_steps}")
ax.legend()
fig.tight_layout()

# %%
# Speed and memory against BPTT
# -----------------------------
# The same network and input, one training step (forward, loss, backward, Adam), with ASF and
# with ordinary BPTT through the snnTorch neurons
# (:class:`~snntorch_ext.SpikingSequential`, which folds the stateless layers over time).
# Memory is the bytes autograd saves for backward, counted with
# ``torch.autograd.graph.saved_tensors_hooks``; time is the median of three steps. A smaller
# batch than the paper's keeps this cell short; ``snntorch-ext bench --cases 'asf/*'`` measures
# the paper's batch of 64 and ``T`` up to 64, with the peak memory of each step as well.


def training_step(method, num_steps):
    torch.manual_seed(0)
    net = snx.models.asf_lenet()
    if method == "ASF":
        forward = snx.ASF(net, num_steps=num_steps)
    else:
        sequence = snx.SpikingSequential(*net)

        def forward(x):
            return sequence(x).mean(0)

    optimizer = torch.optim.Adam(net.parameters(), lr=8.5e-4)

    def step(x, labels):
        optimizer.zero_grad()
        snx.functional.asf_mse_loss()(forward(x), labels).backward()
        optimizer.step()

    return step


def measure(method, num_steps, batch=16, repeats=3):
    step = training_step(method, num_steps)
    x = snx.functional.signed_poisson(images[:batch], num_steps)
    step(x, labels[:batch])  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(x, labels[:batch])
        seconds.append(time.perf_counter() - start)
    saved = 0

    def pack(tensor):
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        step(x, labels[:batch])
    return statistics.median(seconds), saved / 2**20


steps = [8, 16, 32, 64]
results = {method: [measure(method, t) for t in steps] for method in ("ASF", "BPTT")}
print(" T   ASF s   BPTT s  speed-up   ASF MB   BPTT MB")
for i, t in enumerate(steps):
    (a_s, a_mb), (b_s, b_mb) = results["ASF"][i], results["BPTT"][i]
    print(f"{t:3d}  {a_s:6.3f}  {b_s:7.3f}  {b_s / a_s:6.1f}x  {a_mb:7.2f}  {b_mb:8.1f}")

fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(9, 3.5))
for method, colour in (("ASF", "tab:blue"), ("BPTT", "tab:red")):
    ax_time.plot(steps, [r[0] for r in results[method]], "o-", color=colour, label=method)
    ax_mem.plot(steps, [r[1] for r in results[method]], "o-", color=colour, label=method)
ax_time.set(xlabel="time steps T", ylabel="seconds per training step")
ax_mem.set(xlabel="time steps T", ylabel="MB saved for backward", yscale="log")
for ax in (ax_time, ax_mem):
    ax.legend()
    ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# ASF's saved memory is the same at every ``T`` (one count tensor per layer), and its time grows
# only with the forward simulation, which runs without a graph. BPTT keeps every step's
# activations and walks back through all of them.
#
# What ASF gives up: the gradient is a rate-based approximation (one slope per layer), neuron
# parameters such as a learnable threshold get no gradient, max pooling routes the gradient by
# counts, and batch normalisation in training mode cannot run on counts.
# :class:`~snntorch_ext.ASF` refuses such modules with a ``ValueError`` that names them.

# %%
# The claim with seeds, on the CPU
# --------------------------------
# ``snntorch-ext effects`` tests the claim of Fig. 3 (ASF trains ASF's network at least as well as
# BPTT) at equal epochs, both arms minimising the same loss: every arm's learning rate is chosen
# on a validation split held out of the training data, then every arm is trained with three seeds
# and the claim is judged by a paired t test over the seeds (see :ref:`effects` for every
# protocol). The tables below are read from the results file that the protocol run ``asf-vs-bptt``
# wrote for this release; the last line says what is reproduced on the CPU and what is not.

RESULTS = "../docs/results/effects.json"  # written by `snntorch-ext effects ... --results`
print(snx.reproduce.effects.report("asf-vs-bptt", RESULTS))
