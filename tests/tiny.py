"""A tiny recipe on a slice of the offline digits, for engine and command-line tests."""

from __future__ import annotations

import dataclasses
import os

import snntorch.functional
from torch.utils.data import Dataset, Subset

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


class _Poisoned(Dataset):
    """Every tenth image of ``data`` is NaN (a broken data pipeline)."""

    def __init__(self, data: Dataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        x, label = self.data[index]
        return (x * float("nan") if index % 10 == 3 else x), label


def tiny_mnist_nan_if_env(root, train: bool = True, download: bool = False) -> Subset:
    """:func:`tiny_mnist`, with NaN images when ``$SNX_TEST_NAN`` is set (not in the config)."""
    data = tiny_mnist(root, train, download)
    return _Poisoned(data) if os.environ.get("SNX_TEST_NAN") else data


def nan_gradient_loss(**kwargs):
    """A finite loss whose gradient is NaN: :math:`L + \\sqrt{0 \\cdot \\sum y}`."""
    mse = snntorch.functional.mse_count_loss(**kwargs)
    return lambda out, labels: mse(out, labels) + (out.sum() * 0).sqrt()


class _NoTargets(Dataset):
    """The first 60 digits without a ``targets`` attribute; digit 37 has label 12."""

    def __init__(self, data: Dataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return 60

    def __getitem__(self, index):
        x, label = self.data[index]
        return x, 12 if index == 37 else label


def tiny_bad_label(root, train: bool = True, download: bool = False) -> Dataset:
    """A data set whose labels can only be checked item by item (no ``targets``)."""
    return _NoTargets(tiny_mnist(root, train, download))


TINY_NAN = dataclasses.replace(TINY, name="tiny-nan", dataset="tiny:tiny_mnist_nan_if_env")
TINY_NAN_GRAD = dataclasses.replace(TINY, name="tiny-nan-grad", loss="tiny:nan_gradient_loss")
TINY_EVENTS = dataclasses.replace(
    TINY, name="tiny-events", dataset="snntorch_ext.data:nmnist",
    dataset_kwargs={"cache": False, "size": 28}, encoder="snntorch_ext.functional:time_major")
TINY_DDP = dataclasses.replace(  # deterministic: direct input, and TWO's counts to all-reduce
    TINY, name="tiny-ddp", encoder="snntorch_ext.functional:direct",
    decoder="snntorch_ext.decode:TWO", decoder_kwargs={"num_steps": 4, "beta": 0.5},
    loss="torch.nn:CrossEntropyLoss", loss_kwargs={})
RECIPES = {r.name: r for r in (TINY, TINY_NAN, TINY_NAN_GRAD, TINY_EVENTS, TINY_DDP)}
