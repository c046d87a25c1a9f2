"""Static image data sets through torchvision: MNIST, CIFAR-10, CIFAR-100."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from torch.utils.data import Dataset
from torchvision import datasets, transforms

__all__ = ["cifar10", "cifar100", "mnist", "mnist_transform"]

_CIFAR_STATS = {
    "CIFAR10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "CIFAR100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}


def _open(cls: type, root: str | os.PathLike, train: bool, download: bool,
          transform: Callable) -> Dataset:
    root = Path(root).expanduser()
    try:
        return cls(str(root), train=train, download=download, transform=transform)
    except RuntimeError as err:
        if download or "not found" not in str(err).lower():
            raise
        raise FileNotFoundError(
            f"{cls.__name__} is not under {root} (torchvision's layout, "
            f"{root / cls.__name__ if cls is datasets.MNIST else root}). Download it once with "
            f"download=True, or `snntorch-ext train RECIPE --download --data-root {root}`; "
            f"for a run without network use the recipe's --quick variant"
        ) from None


def mnist_transform(train: bool, augment: bool) -> Callable:
    r"""``ToTensor()``, preceded for training images by a random shift when ``augment`` is True.

    The shift moves the digit by up to 2 pixels in each direction (``RandomCrop(28,
    padding=2)``, zero padding), the usual augmentation for MNIST:

    .. math:: x'(i, j) = x(i + \delta_1, j + \delta_2), \qquad \delta_k \in \{-2, \dots, 2\}

    Example::

        >>> import snntorch_ext as snx
        >>> snx.data.mnist_transform(train=False, augment=True)
        ToTensor()
    """
    if train and augment:
        return transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.ToTensor()])
    return transforms.ToTensor()


def mnist(root: str | os.PathLike, train: bool = True, download: bool = False,
          transform: Callable | None = None, augment: bool = False) -> Dataset:
    r"""MNIST through ``torchvision.datasets.MNIST``: 60,000 training and 10,000 test digits.

    Images are ``[1, 28, 28]`` tensors in :math:`[0, 1]`, :math:`x = p / 255`.

    Args:
        root: directory that holds (or will hold) ``MNIST/raw``.
        train: training split if True, else the test split.
        download: download the files if they are missing; False by default, and a missing data
            set is then a FileNotFoundError that says where the files go.
        transform: image transform; defaults to :func:`mnist_transform`.
        augment: shift training images at random by up to 2 pixels (ignored for the test split
            and when ``transform`` is given).

    Example::

        >>> import snntorch_ext as snx
        >>> train = snx.data.mnist("~/data", train=True, download=True)  # doctest: +SKIP

    Reference:
        Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to document
        recognition. Proceedings of the IEEE 86(11), 1998.
    """
    return _open(datasets.MNIST, root, train, download,
                 transform or mnist_transform(train, augment))


def _cifar_transform(name: str, train: bool, augment: bool, normalize: bool) -> Callable:
    steps: list[Callable] = []
    if train and augment:
        steps += [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]
    steps.append(transforms.ToTensor())
    if normalize:
        steps.append(transforms.Normalize(*_CIFAR_STATS[name]))
    return transforms.Compose(steps)


def cifar10(root: str | os.PathLike, train: bool = True, download: bool = False,
            augment: bool = True, normalize: bool = True) -> Dataset:
    r"""CIFAR-10 through ``torchvision.datasets.CIFAR10``, ``[3, 32, 32]`` images.

    Training images are augmented with a random crop (padding 4) and a horizontal flip when
    ``augment`` is True; ``normalize`` standardises each channel,
    :math:`x_c \leftarrow (x_c - \mu_c) / \sigma_c`, with the data set's statistics.

    Example::

        >>> import snntorch_ext as snx
        >>> test = snx.data.cifar10("~/data", train=False, download=True)  # doctest: +SKIP

    Reference:
        A. Krizhevsky. Learning multiple layers of features from tiny images. Tech. report, 2009.
    """
    transform = _cifar_transform("CIFAR10", train, augment, normalize)
    return _open(datasets.CIFAR10, root, train, download, transform)


def cifar100(root: str | os.PathLike, train: bool = True, download: bool = False,
             augment: bool = True, normalize: bool = True) -> Dataset:
    r"""CIFAR-100 through ``torchvision.datasets.CIFAR100``; options as :func:`cifar10`.

    .. math:: x_c \leftarrow (x_c - \mu_c) / \sigma_c

    Example::

        >>> import snntorch_ext as snx
        >>> test = snx.data.cifar100("~/data", train=False, download=True)  # doctest: +SKIP

    Reference:
        A. Krizhevsky. Learning multiple layers of features from tiny images. Tech. report, 2009.
    """
    transform = _cifar_transform("CIFAR100", train, augment, normalize)
    return _open(datasets.CIFAR100, root, train, download, transform)
