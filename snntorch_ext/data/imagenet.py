"""ImageNet (ILSVRC 2012) through torchvision, for the full-size SEW-ResNet34 recipe."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from torch.utils.data import Dataset
from torchvision import datasets, transforms

__all__ = ["imagenet"]

_MEAN, _STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _transform(train: bool, size: int) -> Callable:
    if train:
        steps = [transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip()]
    else:
        steps = [transforms.Resize(round(size * 256 / 224)), transforms.CenterCrop(size)]
    return transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(_MEAN, _STD)])


def imagenet(root: str | os.PathLike, train: bool = True, download: bool = False,
             size: int = 224) -> Dataset:
    r"""ImageNet-1k through ``torchvision.datasets.ImageNet``: 1,281,167 train, 50,000 val images.

    Training images get the standard random resized crop and horizontal flip, validation
    images a resize to :math:`\lceil 256/224 \cdot s \rceil` and a centre crop of
    :math:`s \times s`; both are standardised with the ImageNet channel statistics,
    :math:`x_c \leftarrow (x_c - \mu_c)/\sigma_c`. The test split is the validation set.

    ImageNet cannot be downloaded automatically (its licence needs a login at image-net.org):
    put ``ILSVRC2012_devkit_t12.tar.gz``, ``ILSVRC2012_img_train.tar`` and
    ``ILSVRC2012_img_val.tar`` in ``root``; torchvision unpacks them on first use.

    Args:
        root: folder with the ImageNet archives (or torchvision's unpacked ``train``/``val``).
        train: the training split if True, else the validation split.
        download: must be False.
        size: side :math:`s` of the square crops.

    Raises:
        ValueError: if ``download`` is True.
        FileNotFoundError: if the archives are not in ``root``.

    Example::

        >>> import snntorch_ext as snx
        >>> val = snx.data.imagenet("~/data/imagenet", train=False)  # doctest: +SKIP

    Reference:
        O. Russakovsky, J. Deng, H. Su, et al. ImageNet large scale visual recognition
        challenge. IJCV 115:211-252, 2015.
    """
    if download:
        raise ValueError("download must be False for ImageNet: it cannot be downloaded "
                         "automatically; get the ILSVRC 2012 archives from image-net.org")
    root = Path(root).expanduser()
    try:
        return datasets.ImageNet(str(root), split="train" if train else "val",
                                 transform=_transform(train, size))
    except RuntimeError as err:
        raise FileNotFoundError(
            f"ImageNet is not under {root}: put ILSVRC2012_devkit_t12.tar.gz and "
            f"ILSVRC2012_img_{'train' if train else 'val'}.tar there ({err})") from None
