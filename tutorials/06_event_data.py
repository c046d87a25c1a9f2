"""
Event-camera data
=================

Three of the four papers are judged on recordings of event cameras: N-MNIST, DVS-Gesture,
CIFAR10-DVS and N-Caltech101. ``snx.data`` opens them through tonic and turns every recording
into ``T`` frames ``[T, 2, H, W]``. None of them can be downloaded here, so this tutorial uses
the offline synthetic N-MNIST: the 5,000 MNIST digits that ship with the install, recorded by a
simulated event camera the way N-MNIST was recorded, written in N-MNIST's own file format and
read back through tonic. We compare synthetic recordings with a real one, then train a small
spiking network on the frames.
"""

# %%
# Event data in three lines
# -------------------------
# Every factory takes ``(root, train, download, num_steps, split_by, size, cache)`` and returns a
# data set of ``(frames, label)``. The first call of :func:`~snntorch_ext.data.nmnist_synthetic`
# records the digits (a few seconds to a minute) and writes them under
# ``root/nmnist_synthetic``; later calls read the files.

import os

import matplotlib.pyplot as plt
import numpy as np
import snntorch as snn
import snntorch.functional as SF
import torch
from torch import nn

import snntorch_ext as snx
from snntorch_ext.comparison import PaperComparison

FULL = os.environ.get("SNNTORCH_EXT_FULL") == "1"  # more epochs of the small network below
root = snx.engine.default_data_root()
num_steps = 8

train_set = snx.data.nmnist_synthetic(root, train=True, num_steps=num_steps)
test_set = snx.data.nmnist_synthetic(root, train=False, num_steps=num_steps)
frames, label = train_set[0]
print(len(train_set), "training and", len(test_set), "test recordings")
print("frames", tuple(frames.shape), frames.dtype, "label", label)

# %%
# The real N-MNIST reads the same way, ``snx.data.nmnist(root, train, num_steps=...)``, from
# ``root/NMNIST/Train/<digit>/*.bin`` (``download=True`` lets tonic fetch it); so do
# ``dvs_gesture``, ``cifar10_dvs`` (split 9:1 per class with a fixed seed) and
# ``ncaltech101``.
#
# A synthetic recording
# ---------------------
# The raw events of any item are in ``dataset.events[i]``: tonic's structured arrays with
# fields ``x``, ``y``, ``t`` (microseconds) and ``p`` (polarity). Left: the events of one
# synthetic "4" over time (``y`` against ``t``, ``p = 1`` in red), with the three saccades of
# about 105 ms each. Right: the frames the network sees, ON minus OFF counts of each of the
# ``T`` bins (``split_by="number"``: equal event counts per frame).

first_four = test_set.targets.index(4)
events, frames = test_set.events[first_four][0], test_set[first_four][0]
fig, axes = plt.subplots(1, 1 + num_steps, figsize=(12, 2.2),
                         gridspec_kw={"width_ratios": [4] + [1] * num_steps})
colors = np.where(events["p"] == 1, "tab:red", "tab:blue")
axes[0].scatter(events["t"] / 1e3, events["y"], s=0.3, c=colors)
axes[0].set(xlabel="t (ms)", ylabel="y", title=f"synthetic N-MNIST: {len(events)} events")
for k in range(num_steps):
    axes[1 + k].imshow(frames[k, 1] - frames[k, 0], cmap="bwr", vmin=-3, vmax=3)
    axes[1 + k].set_axis_off()
    axes[1 + k].set_title(f"t={k}", fontsize=8)
fig.tight_layout()

# %%
# Synthetic against real
# ----------------------
# No real recording ships with the package (the N-MNIST files are not ours to redistribute),
# but the statistics of one real N-MNIST recording of a "4" do: its event count, the share of
# ON events, its duration and its ON and OFF events per 20 ms bin, measured once from the
# file. The synthetic test recordings are measured here, in the same way.

REAL = {  # one real N-MNIST recording of a "4" (ATIS camera, three saccades)
    "events": 4325, "on_share": 0.496, "duration_ms": 310.5, "bin_ms": 20,
    "on": [27, 155, 274, 200, 28, 64, 169, 216, 140, 50, 57, 97, 280, 259, 117, 12],
    "off": [35, 151, 273, 190, 36, 65, 182, 215, 132, 55, 60, 94, 300, 267, 114, 11],
}


def stats(events: np.ndarray) -> tuple[int, float, float]:
    """Event count, share of ON events and duration in ms of one recording."""
    return len(events), float(events["p"].mean()), (events["t"].max() - events["t"].min()) / 1e3


synthetic = np.array([stats(test_set.events[i][0]) for i in range(len(test_set))])
mean = synthetic.mean(0)
table = PaperComparison()
for (label, unit, digits), real, ours in zip(
        (("events per recording", "events", 0), ("ON events", "fraction", 3),
         ("duration", "ms", 0)),
        (REAL["events"], REAL["on_share"], REAL["duration_ms"]), mean, strict=True):
    table.add(label, unit=unit, figure="N-MNIST (Orchard et al. 2015), one real recording",
              paper=real, quick=float(ours), digits=digits)
table

# %%
# Events per 20 ms bin over the recording, ON and OFF: the real "4" and the mean of the
# synthetic test "4"s. Both show the three saccades.

edges = np.arange(0, 320_001, REAL["bin_ms"] * 1000)
fours = [test_set.events[i][0] for i, label in enumerate(test_set.targets) if label == 4]
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), sharey=True)
for ax, polarity in zip(axes, ("on", "off"), strict=True):
    bit = 1 if polarity == "on" else 0
    counts = np.mean([np.histogram(e["t"][e["p"] == bit] - e["t"].min(), edges)[0]
                      for e in fours], axis=0)
    centres = (edges[:-1] + edges[1:]) / 2e3
    ax.plot(centres, REAL[polarity], "o-", color="k", label="real recording")
    ax.plot(centres, counts, "s-", color="tab:orange", label="synthetic (mean of the 4s)")
    ax.set(title=f"{polarity.upper()} events", xlabel="t (ms)")
axes[0].set_ylabel(f"events per {REAL['bin_ms']} ms")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %%
# Train a small spiking network on the frames
# -------------------------------------------
# The frames batch as ``[B, T, 2, 34, 34]``; :func:`~snntorch_ext.functional.time_major` makes
# them ``[T, B, 2, 34, 34]`` for :class:`~snntorch_ext.SpikingSequential`, which steps the
# snnTorch neurons over time. The recipes do the same through the command line, e.g.
# ``snntorch-ext train bpsta-nmnist --quick`` (the BPSA+BPTA row of N-MNIST on this data).

torch.manual_seed(0)


def lif() -> snn.Leaky:
    return snn.Leaky(beta=0.5, threshold=0.5, init_hidden=True,
                     spike_grad=snx.surrogate.rectangular(width=1.0))


net = snx.SpikingSequential(
    nn.Conv2d(2, 8, 5), nn.MaxPool2d(2), lif(),   # 34 -> 30 -> 15
    nn.Conv2d(8, 16, 4), nn.MaxPool2d(2), lif(),  # 15 -> 12 -> 6
    nn.Flatten(), nn.Linear(16 * 6 * 6, 10), lif(),
)
optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.1)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=250)


def accuracy() -> float:
    correct = 0
    with torch.no_grad():
        for x, labels in test_loader:
            scores = net(snx.functional.time_major(x, num_steps)).sum(0)
            correct += (scores.argmax(1) == labels).sum().item()
    return correct / len(test_set)


for epoch in range(10 if FULL else 2):
    for x, labels in train_loader:
        loss = loss_fn(net(snx.functional.time_major(x, num_steps)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch + 1}: test accuracy {accuracy():.3f} (chance 0.100)")

# %%
# Next: the recipes of the three papers on N-MNIST, DVS-Gesture, DVS-CIFAR10 and N-Caltech101
# (``snntorch-ext list``); with the real data sets downloaded, drop ``--quick``.
