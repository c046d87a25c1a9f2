"""A class-balanced, seeded subset of any data set factory, for quick runs on small data."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from .._checks import check_positive_int

__all__ = ["balanced_subset"]


def _factory(dataset: str | Callable[..., Dataset]) -> Callable[..., Dataset]:
    if callable(dataset):
        return dataset
    from ..recipes import resolve  # imported here: the recipes package imports this one

    return resolve(dataset)


def _targets(data: Dataset) -> np.ndarray:
    targets = getattr(data, "targets", None)
    if targets is None:
        raise ValueError(f"balanced_subset needs a data set with a `targets` attribute (one class "
                         f"label per item), got {type(data).__name__} without one")
    if isinstance(targets, torch.Tensor):
        return targets.cpu().numpy()
    return np.asarray(targets)


def balanced_subset(root: str | os.PathLike, train: bool = True, download: bool = False, *,
                    dataset: str | Callable[..., Dataset], train_size: int, test_size: int,
                    seed: int = 0, num_steps: int | None = None, **kwargs) -> Subset:
    r"""The same number of items of every class, drawn once with a fixed seed from a data set.

    ``dataset(root, train=train, download=download, **kwargs)`` is opened (``num_steps`` is
    passed on if the factory takes it, so event data sets get the recipe's ``T``), and
    :math:`n` items are kept, :math:`\lfloor n / C \rfloor` of each of the :math:`C` classes
    (the first :math:`n \bmod C` classes get one more), each class's items chosen by a seeded
    permutation, in data set order:

    .. math:: |\{i \in S : y_i = c\}| = \lfloor n/C \rfloor + \mathbb{1}[c < n \bmod C]

    Quick recipes use it to train on a slice of the offline data; only the kept items are ever
    read (and, for event data, binned into frames).

    Args:
        root, train, download: passed to ``dataset``.
        dataset: a data set factory, or its import path ``"module:name"``.
        train_size: :math:`n` for the training split.
        test_size: :math:`n` for the test split.
        seed: seed of the choice (the same for every run).
        num_steps: ``T`` for factories of event frames (ignored by the others).
        **kwargs: further arguments of ``dataset``.

    Returns:
        A ``torch.utils.data.Subset``.

    Raises:
        ValueError: if a size is not an integer >= 1, if a class has fewer items than its
            share, or if the data set has no ``targets``.

    Example::

        >>> import snntorch_ext as snx
        >>> small = snx.data.balanced_subset("~/.cache/snntorch_ext", train=True,
        ...                                  dataset="snntorch_ext.data:mnist_offline",
        ...                                  train_size=1000, test_size=500)  # doctest: +SKIP
        >>> len(small)  # doctest: +SKIP
        1000
    """
    size = check_positive_int("train_size" if train else "test_size",
                              train_size if train else test_size)
    factory = _factory(dataset)
    if num_steps is not None and "num_steps" in inspect.signature(factory).parameters:
        kwargs["num_steps"] = num_steps
    full = factory(root, train=train, download=download, **kwargs)
    targets = _targets(full)
    classes = np.unique(targets)
    rng = np.random.default_rng(seed)
    keep = []
    for rank, label in enumerate(classes):
        share = size // len(classes) + (rank < size % len(classes))
        members = np.flatnonzero(targets == label)
        if share > len(members):
            raise ValueError(f"class {label!r} has {len(members)} items, fewer than its share "
                             f"{share} of {size}; ask for a smaller subset")
        keep.append(rng.permutation(members)[:share])
    return Subset(full, np.sort(np.concatenate(keep)).tolist())
