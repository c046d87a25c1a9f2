"""A tiny recipe on a slice of the offline digits, for engine and command-line tests."""

from __future__ import annotations

from torch.utils.data import Subset

import snntorch_ext as snx


def tiny_mnist(root, train: bool = True, download: bool = False, n_train: int = 200,
               n_test: int = 100) -> Subset:
    """The first ``n_train`` training or ``n_test`` test digits of ``mnist_offline``."""
    return Subset(snx.data.mnist_offline(root, train=train), range(n_train if train else n_test))


TINY = snx.recipes.Recipe(
    name="tiny",
    paper="test",
    table="test",
    dataset="tiny:tiny_mnist",
    num_classes=10,
    network="snntorch_ext.models:stbp_cnn",
    network_kwargs={"channels": 8, "hidden": 64},
    neuron="snntorch:Leaky",
    neuron_kwargs={"beta": 0.9, "threshold": 0.5, "reset_mechanism": "zero"},
    spike_grad="snntorch_ext.surrogate:rectangular",
    encoder="snntorch_ext.functional:rate",
    num_steps=4,
    epochs=2,
    batch_size=20,
    loss="snntorch.functional:mse_count_loss",
    loss_kwargs={"correct_rate": 1.0, "incorrect_rate": 0.0},
    schedule="cosine",
    schedule_kwargs={"warmup_epochs": 1},
)
