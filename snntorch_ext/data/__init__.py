"""Data sets as ``torch.utils.data.Dataset`` objects, through torchvision and tonic.

Every factory has the signature ``factory(root, train=True, download=False, ...)`` that recipes
use. Nothing is ever downloaded unless ``download=True``.

Example::

    >>> import snntorch_ext as snx
    >>> test = snx.data.mnist_offline("~/.cache/snntorch_ext", train=False)  # doctest: +SKIP
"""

from .events import EventFrames, cifar10_dvs, dvs_gesture, ncaltech101, nmnist
from .imagenet import imagenet
from .offline import mnist_offline
from .static import cifar10, cifar100, mnist, mnist_transform
from .subset import balanced_subset
from .synthetic import nmnist_synthetic, saccade_events

__all__ = ["EventFrames", "balanced_subset", "cifar10", "cifar100", "cifar10_dvs", "dvs_gesture",
           "imagenet", "mnist", "mnist_offline", "mnist_transform", "ncaltech101", "nmnist",
           "nmnist_synthetic", "saccade_events"]
