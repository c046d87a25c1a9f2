"""
Event-camera data
=================

Three of the four papers are judged on recordings of event cameras: N-MNIST, DVS-Gesture,
CIFAR10-DVS and N-Caltech101. ``snx.data`` opens them through tonic and turns every recording
into ``T`` frames ``[T, 2, H, W]``. None of them can be downloaded here, so this tutorial uses
the offline synthetic N-MNIST: the 5,000 MNIST digits that ship with the install, recorded by a
simulated event camera the way N-MNIST was recorded, written in N-MNIST's own file format and
read back through tonic. We look at a synthetic recording next to a real one, then train a
small spiking network on the frames.
"""

# %%
# Event data in three lines
# -------------------------
# Every factory takes ``(root, train, download, num_steps, split_by, size, cache)`` and returns a
# data set of ``(frames, label)``. The first call of :func:`~snntorch_ext.data.nmnist_synthetic`
# records the digits (a progress bar, a few seconds to a minute) and writes them under
# ``root/nmnist_synthetic``; later calls read the files.

import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import snntorch as snn
import snntorch.functional as SF
import torch
from torch import nn

import snntorch_ext as snx

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
# A synthetic and a real recording
# --------------------------------
# The project's shared folder holds one real N-MNIST recording (from tonic's test fixtures).
# If it is here, we put it into N-MNIST's folder layout and read it through the same loader.
# The raw events of any item are in ``dataset.events[i]``: tonic's structured arrays with
# fields ``x``, ``y``, ``t`` (microseconds) and ``p`` (polarity).


def find_sample() -> Path | None:
    for folder in (Path.cwd(), *Path.cwd().parents):
        candidate = folder / "shared" / "data" / "sample_nmnist.bin"
        if candidate.is_file():
            return candidate
    return None


recordings = {}
sample = find_sample()
if sample is not None:
    real_root = Path(tempfile.mkdtemp(prefix="snx-real-nmnist-"))
    (real_root / "NMNIST" / "Test" / "4").mkdir(parents=True)
    shutil.copy(sample, real_root / "NMNIST" / "Test" / "4" / "00001.bin")
    real = snx.data.nmnist(real_root, train=False, num_steps=num_steps, cache=False)
    recordings["real N-MNIST"] = (real.events[0][0], real[0][0])
    print(f"real recording: {len(real.events[0][0])} events")
else:
    print("the real sample is not here (it lives in the project's shared folder)")

first_four = test_set.targets.index(4)
recordings["synthetic N-MNIST"] = (test_set.events[first_four][0], test_set[first_four][0])

# %%
# Left: the events of each recording over time (``y`` against ``t``, ``p = 1`` in red), with
# the three saccades of about 105 ms each. Right: the frames the network sees, ON minus OFF
# counts of each of the ``T`` bins (``split_by="number"``: equal event counts per frame).

fig, axes = plt.subplots(len(recordings), 1 + num_steps, figsize=(12, 1.9 * len(recordings)),
                         gridspec_kw={"width_ratios": [4] + [1] * num_steps}, squeeze=False)
for row, (name, (events, frames)) in zip(axes, recordings.items(), strict=True):
    colors = np.where(events["p"] == 1, "tab:red", "tab:blue")
    row[0].scatter(events["t"] / 1e3, events["y"], s=0.3, c=colors)
    row[0].set(xlabel="t (ms)", ylabel="y", title=f"{name}: {len(events)} events")
    for k in range(num_steps):
        row[1 + k].imshow(frames[k, 1] - frames[k, 0], cmap="bwr", vmin=-3, vmax=3)
        row[1 + k].set_axis_off()
        row[1 + k].set_title(f"t={k}", fontsize=8)
fig.tight_layout()

# %%
# The statistics of the two, over the synthetic test set: events per recording, the share of
# ``p = 1`` events and the duration (the real sample: 4,325 events over about 311 ms, about
# half with ``p = 1``).


def stats(events: np.ndarray) -> tuple[int, float, float]:
    return len(events), float(events["p"].mean()), (events["t"].max() - events["t"].min()) / 1e3


synthetic_stats = np.array([stats(test_set.events[i][0]) for i in range(len(test_set))])
mean, std = synthetic_stats.mean(0), synthetic_stats.std(0)
print(f"synthetic: {mean[0]:.0f} +- {std[0]:.0f} events, p=1 share {mean[1]:.3f}, "
      f"{mean[2]:.0f} ms")
if "real N-MNIST" in recordings:
    count, share, duration = stats(recordings["real N-MNIST"][0])
    print(f"real     : {count} events, p=1 share {share:.3f}, {duration:.0f} ms")

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
