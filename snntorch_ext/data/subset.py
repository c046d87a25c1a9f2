"""Class-balanced, seeded subsets of any data set factory: quick runs on small data, and a
validation split held out of the training data."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from .._checks import check_positive_int

__all__ = ["balanced_subset", "validation_split"]


def _factory(dataset: str | Callable[..., Dataset]) -> Callable[..., Dataset]:
    if callable(dataset):
        return dataset
    from ..recipes import resolve  # imported here: the recipes package imports this one

    return resolve(dataset)


def _targets(data: Dataset) -> np.ndarray:
    if isinstance(data, Subset):
        return _targets(data.dataset)[np.asarray(data.indices, dtype=np.int64)]
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
    full = _open(dataset, root, train, download, num_steps, kwargs)
    return Subset(full, _balanced(_targets(full), size, seed).tolist())


def _open(dataset: str | Callable[..., Dataset], root: str | os.PathLike, train: bool,
          download: bool, num_steps: int | None, kwargs: dict) -> Dataset:
    factory = _factory(dataset)
    if num_steps is not None and "num_steps" in inspect.signature(factory).parameters:
        kwargs = {**kwargs, "num_steps": num_steps}
    return factory(root, train=train, download=download, **kwargs)


def _balanced(targets: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted positions of ``size`` items, an equal share of every class, seeded."""
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
    return np.sort(np.concatenate(keep))


def validation_split(root: str | os.PathLike, train: bool = True, download: bool = False, *,
                     source: str | Callable[..., Dataset], val_size: int,
                     evaluate_on: str = "validation", seed: int = 0,
                     num_steps: int | None = None, **kwargs) -> Dataset:
    r"""Hold a class-balanced validation set out of a training split.

    The training split of ``source`` is divided once, with a fixed seed, into a validation set
    :math:`V` of ``val_size`` items (an equal share of every class, as in
    :func:`balanced_subset`) and the rest :math:`R`:

    .. math:: R \cup V = \text{training split}, \qquad R \cap V = \emptyset

    ``train=True`` gives :math:`R`. ``train=False`` gives :math:`V` when ``evaluate_on`` is
    ``"validation"`` (the test split is then never opened), or the test split of ``source``
    when it is ``"test"``. So hyper-parameters chosen on :math:`V` never see the test split, and
    the final runs train on exactly the same items :math:`R` (see :ref:`design-engine`).

    Args:
        root, train, download: passed to ``source``.
        source: a data set factory, or its import path ``"module:name"``.
        val_size: the number of validation items, an integer >= 1.
        evaluate_on: ``"validation"`` or ``"test"``: what ``train=False`` gives.
        seed: seed of the choice (the same for every run).
        num_steps: ``T`` for factories of event frames (ignored by the others).
        **kwargs: further arguments of ``source``.

    Returns:
        A ``torch.utils.data.Subset`` (or the test split of ``source``).

    Raises:
        ValueError: if ``val_size`` is not an integer >= 1 or leaves no training items, if
            ``evaluate_on`` is neither value, or if the data set has no ``targets``.

    Example::

        >>> import snntorch_ext as snx
        >>> fit = snx.data.validation_split("~/.cache/snntorch_ext", train=True,
        ...                                 source="snntorch_ext.data:mnist_offline",
        ...                                 val_size=500)  # doctest: +SKIP
        >>> len(fit)  # doctest: +SKIP
        3500
    """
    size = check_positive_int("val_size", val_size)
    if evaluate_on not in ("validation", "test"):
        raise ValueError(f"evaluate_on must be 'validation' or 'test', got {evaluate_on!r}")
    if not train and evaluate_on == "test":
        return _open(source, root, False, download, num_steps, kwargs)
    full = _open(source, root, True, download, num_steps, kwargs)
    targets = _targets(full)
    if size >= len(targets):
        raise ValueError(f"val_size must be smaller than the training split ({len(targets)} "
                         f"items), got {size}")
    held = _balanced(targets, size, seed)
    if not train:
        return Subset(full, held.tolist())
    return Subset(full, np.setdiff1d(np.arange(len(targets)), held).tolist())
