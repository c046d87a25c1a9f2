"""Data sets as ``torch.utils.data.Dataset`` objects, through torchvision and tonic.

Every factory has the signature ``factory(root, train=True, download=False, ...)`` that recipes
use. Nothing is ever downloaded unless ``download=True``.

Example::

    >>> import snntorch_ext as snx
    >>> test = snx.data.mnist_offline("~/.cache/snntorch_ext", train=False)  # doctest: +SKIP
"""

from .offline import mnist_offline
from .static import cifar10, cifar100, mnist

__all__ = ["cifar10", "cifar100", "mnist", "mnist_offline"]
