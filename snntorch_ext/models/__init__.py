"""The networks of the four papers and of their STBP baseline.

Every builder takes ``(in_channels, num_classes, neuron=..., ...)``. Most return a
:class:`~snntorch_ext.SpikingSequential` that maps a ``[T, B, ...]`` input to a ``[T, B, ...]``
output; the ASF builders return the per-step ``nn.Sequential`` that :class:`~snntorch_ext.ASF`
wraps.

Example::

    >>> import snntorch_ext as snx
    >>> net = snx.models.stbp_cnn(in_channels=1, num_classes=10)
"""

from .asf import asf_lenet, asf_neuron, asf_vgg7
from .bpsta import bpsta_large, bpsta_middle, bpsta_neuron, bpsta_small
from .msg import cifarnet, msg_neuron, resnet18, resnet19, sew_resnet34, vggsnn
from .ssl import ssl_cifar10, ssl_neuron, ssl_nmnist
from .stbp import stbp_cnn, stbp_neuron

__all__ = [
    "asf_lenet", "asf_neuron", "asf_vgg7", "bpsta_large", "bpsta_middle", "bpsta_neuron",
    "bpsta_small", "cifarnet", "msg_neuron", "resnet18", "resnet19",
    "sew_resnet34", "ssl_cifar10", "ssl_neuron", "ssl_nmnist", "stbp_cnn", "stbp_neuron",
    "vggsnn",
]
