r"""Run an ``nn.Sequential`` of snnTorch layers over a whole ``[T, B, ...]`` sequence.

Example::

    import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx

    net = snx.SpikingSequential(
        nn.Flatten(), nn.Linear(784, 100), snn.Leaky(beta=0.9, init_hidden=True),
        nn.Linear(100, 10), snn.Leaky(beta=0.9, init_hidden=True),
    )
    spk_out = net(torch.rand(8, 32, 1, 28, 28))   # [T=8, B=32, 10]
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

from ._checks import check_time_major, step_rank
from .kernels.select import BACKENDS, backend_for, run_neuron
from .utils import reset

__all__ = ["SpikingSequential"]


# Deterministic per-sample layers: on a time-constant input they give the same output at every step.
_TIME_INVARIANT = (nn.modules.conv._ConvNd, nn.Linear, nn.modules.batchnorm._BatchNorm,
                   nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
                   nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd,
                   nn.ReLU, nn.Flatten, nn.Identity)


_LOW_PRECISION = (torch.bfloat16, torch.float16)
# PyTorch 2.4 and newer ask by device type; older ones have one function per device.
_AUTOCAST_BY_DEVICE = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)


def _first(output: torch.Tensor | tuple) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


class SpikingSequential(nn.Sequential):
    r"""An ``nn.Sequential`` of ordinary per-step snnTorch layers that takes a whole sequence.

    ``forward(x)`` takes ``x`` of shape ``[T, B, ...]`` and returns the last layer's output for
    every step, ``[T, B, ...]``. It first resets the neurons inside
    (:func:`snntorch_ext.utils.reset`), then runs *layer by layer*:

    * a stateless module (``Conv2d``, ``Linear``, pooling, ``BatchNorm``, ``Flatten``, ...) runs
      once on all steps folded into the batch, :math:`[T B, \dots]`, which is much faster than
      ``T`` small calls and gives the same result. If the input is the same at every step (a
      view with stride 0 over time, as :func:`snntorch_ext.functional.direct` returns), a
      convolution, linear, batch-norm, pooling, ReLU or flatten layer runs on one step only and
      its output is expanded over time again: the same values and gradients (up to the order
      of floating-point sums) for :math:`1/T` of the cost. (Batch norm's running variance then
      applies Bessel's correction :math:`n/(n-1)` with :math:`n` the values per channel of one
      step instead of all :math:`T` steps, e.g. a relative difference of
      :math:`3 \cdot 10^{-5}` for a batch of 32 images of 28x28 at :math:`T = 4`; the batch
      statistics used for normalisation are the same.)
    * on the CPU, a 2-D convolution gets its input channels-last (``torch.channels_last``),
      oneDNN's fast layout; the pooling, batch norm and neurons after it keep that layout, and
      a ``Flatten`` gets a contiguous copy whose gradient goes back channels-last. The values
      are those of the default layout up to the order of floating-point sums inside the
      convolution (a 1-channel convolution of 400 rate-coded digits ran 2.5x faster on one
      core). Our choice (:ref:`design-engine`);
    * a snnTorch neuron (``init_hidden=True``) runs over the whole sequence at once when a
      multi-step kernel can run it (see *Backends*), else it is stepped over ``x.unbind(0)``
      (or fed the one step T times while the input is still time-constant); if it returns a
      tuple (``output=True``) the first element, the value passed on to the next layer, is
      kept;
    * a module with the attribute ``multi_step = True`` receives the ``[T, B, ...]`` tensor as is
      (e.g. dropout with one mask shared over time); one with ``stateful = True`` is stepped
      like a neuron (e.g. that dropout with ``per_step=True``).

    **Layout.** Input and output are time-major, ``[T, B, ...]``, like snnTorch's recordings
    and ``nn.RNN``'s default. ``batch_first=True`` (as in ``nn.RNN``) takes and returns
    ``[B, T, ...]`` instead. Where the first layer fixes the rank of one step (``Linear``: a
    step is ``[B, F]`` or ``[B, ..., F]``; ``Conv2d``: ``[B, C, H, W]``, ...), an input of
    any other rank, such as a single step ``[B, F]`` without its time dimension, is a
    ValueError naming the expected layout. A batch-first tensor has the same rank as a
    time-major one, so it cannot be detected: pass ``batch_first=True`` for it.

    **Mixed precision.** Under ``torch.autocast`` in bfloat16 or float16 every neuron takes its
    input in float32 and keeps its state in float32, while the layers between them compute in
    the low precision: our choice (:ref:`design-engine`), as a membrane potential summed over
    many steps in bfloat16's 8-bit mantissa would shift spikes. The multi-step kernels keep
    running, and under ``torch.compile`` the network stays one graph.

    The indexing, ``state_dict`` layout and per-step semantics are those of ``nn.Sequential``:
    ``net[0]``, ``net[2].mem`` etc. work as usual, and calling the layers one step at a time in a
    loop (snnTorch's tutorial style) gives the same outputs.

    .. math::

        y[t] = f_L \circ \cdots \circ f_1 (x[t]), \qquad t = 1, \dots, T

    **Backends.** ``backend`` chooses how neurons run; every backend gives the same values and
    (up to rounding) the same gradients, and leaves ``mem`` (``psp``, ``spk``) as the per-step
    calls do:

    * ``"torch"``: per-step calls of the neuron's ``forward``;
    * ``"fused"``: one ``torch.autograd.Function`` per neuron layer over all steps, whose
      backward runs the error recursion by hand and keeps only the membrane sequence
      (:mod:`snntorch_ext.kernels`);
    * ``"triton"``: the same with Triton kernels (CUDA);
    * ``"auto"`` (default): Triton on CUDA when available, else fused, and per-step calls for a
      neuron no kernel can run (logged at debug level on the ``snntorch_ext.kernels`` logger).

    The kernels run ``snn.Leaky``, :class:`~snntorch_ext.BPSTALeaky`,
    :class:`~snntorch_ext.MSGLeaky` and :class:`~snntorch_ext.PSPLeaky` with a surrogate of
    :mod:`snntorch_ext.surrogate` (masked included); learnable ``beta``/``threshold``,
    ``inhibition``, ``state_quant``, ``reset_delay=False``, snnTorch's own surrogates and
    per-step forward hooks need per-step calls (:func:`snntorch_ext.kernels.select.plan` gives the
    reason). An explicit ``"fused"`` or ``"triton"`` that cannot run a neuron is a ValueError.
    ``backend=None`` reads the environment variable ``SNNTORCH_EXT_BACKEND`` (default
    ``"auto"``) when the network is built: our choice, to compare backends without editing
    recipes (:ref:`design-engine`).

    Args:
        *args: the layers, as for ``nn.Sequential`` (or one ``OrderedDict`` of them).
        backend: ``"auto"``, ``"fused"``, ``"triton"``, ``"torch"`` or None.
        batch_first: take and return ``[B, T, ...]`` instead of ``[T, B, ...]``.

    Raises:
        ValueError: an unknown ``backend``, or, at ``forward``, an input whose rank does not
            match the first layer's step plus a time dimension, or that has fewer than two
            dimensions.

    Example::

        >>> import torch, torch.nn as nn, snntorch as snn, snntorch_ext as snx
        >>> net = snx.SpikingSequential(nn.Linear(3, 2), snn.Leaky(beta=0.5, init_hidden=True))
        >>> net(torch.ones(4, 5, 3)).shape
        torch.Size([4, 5, 2])
        >>> batch_first = snx.SpikingSequential(nn.Linear(3, 2),
        ...                                     snn.Leaky(beta=0.5, init_hidden=True),
        ...                                     batch_first=True)
        >>> batch_first(torch.ones(5, 4, 3)).shape
        torch.Size([5, 4, 2])
    """

    def __init__(self, *args: nn.Module, backend: str | None = None,
                 batch_first: bool = False) -> None:
        super().__init__(*args)
        if backend is None:
            backend = os.environ.get("SNNTORCH_EXT_BACKEND", "auto")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
        if not isinstance(batch_first, bool):
            raise ValueError(f"batch_first must be True or False, got {batch_first!r}")
        self.backend = backend
        self.batch_first = batch_first

    def extra_repr(self) -> str:
        """``batch_first=True`` when set, as ``nn.RNN`` shows it."""
        return "batch_first=True" if self.batch_first else ""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102 (documented above)
        self._check_layout(x)
        if self.batch_first:
            return self._forward(x.transpose(0, 1)).transpose(0, 1)
        return self._forward(x)

    def _check_layout(self, x: torch.Tensor) -> None:
        layout = "[B, T, ...]" if self.batch_first else "[T, B, ...]"
        rank = step_rank(self)
        linear = rank == 2  # nn.Linear also takes [B, ..., F]: a rank of at least 3 then
        if (isinstance(x, torch.Tensor) and rank is not None
                and (x.dim() < rank + 1 if linear else x.dim() != rank + 1)):
            first = type(self[0]).__name__ if len(self) else ""
            single = (" (a single step has no time dimension: add one with x.unsqueeze("
                      f"{int(self.batch_first)}))" if x.dim() == rank else "")
            raise ValueError(
                f"x must be a whole sequence {layout} with {'at least ' * linear}{rank + 1} "
                f"dims for a network that starts with {first} (one step has {rank}){single}, "
                "got shape "
                f"{tuple(x.shape)}"
            )
        check_time_major("x", x, min_dim=2)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        reset(self)
        steps = x.shape[0]
        # A time-constant input (stride 0 over time) is carried as one step, ``same``, until a
        # layer needs the sequence: no [T, ...] copies and no [T, ...] gradients until then.
        same = x[0] if x.stride(0) == 0 else None
        for module in self:
            if same is not None:
                if _time_invariant(module):
                    same = module(_layout(module, same))
                    continue
                if isinstance(module, SpikingNeuron) and not getattr(module, "multi_step", False):
                    x, same = self._neuron(module, same.expand(steps, *same.shape), same), None
                    continue
                x, same = same.expand(steps, *same.shape), None
            x = self._run(module, x)
        return x if same is None else same.expand(steps, *same.shape)

    def _neuron(self, neuron: nn.Module, x: torch.Tensor, same: torch.Tensor | None = None
                ) -> torch.Tensor:
        if x.dtype in _LOW_PRECISION and _autocast_on(x.device.type):
            same = None if same is None else same.float()
            x = x.float() if same is None else same.expand(x.shape)
        backend, plan = backend_for(neuron, x, self.backend)
        if backend != "torch":
            return run_neuron(neuron, x, backend, plan)
        return _step_neuron(neuron, x.unbind(0) if same is None else [same] * x.shape[0])

    def _run(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if getattr(module, "multi_step", False):
            return module(x)
        if isinstance(module, SpikingNeuron):
            return self._neuron(module, x)
        if getattr(module, "stateful", False):
            return _step_neuron(module, x.unbind(0))
        steps, batch = x.shape[:2]
        y = module(_layout(module, x.reshape(steps * batch, *x.shape[2:])))
        return y.reshape(steps, batch, *y.shape[1:])


def _autocast_on(device_type: str) -> bool:
    if _AUTOCAST_BY_DEVICE:
        return torch.is_autocast_enabled(device_type)
    return torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()


def _step_neuron(neuron: nn.Module, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.stack([_first(neuron(x_t)) for x_t in inputs])


class _ToContiguous(torch.autograd.Function):
    """``x.contiguous()`` of a channels-last ``x`` whose gradient goes back channels-last."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous(memory_format=torch.channels_last)


def _layout(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` in the memory format that ``module`` runs fastest on (CPU): channels-last into a
    2-D convolution (oneDNN's fast layout; the pooling, batch norm and neurons that follow keep
    it), back to contiguous, with a channels-last gradient, into a ``Flatten``."""
    if x.device.type != "cpu" or x.dim() != 4:
        return x
    if isinstance(module, nn.Conv2d):
        if x.shape[1] == 1:  # already "channels-last contiguous": give it the strides too
            n, _, h, w = x.shape
            return x.reshape(n, h, w, 1).permute(0, 3, 1, 2)
        return x.contiguous(memory_format=torch.channels_last)
    if (isinstance(module, nn.Flatten) and not x.is_contiguous()
            and x.is_contiguous(memory_format=torch.channels_last)):
        return _ToContiguous.apply(x)
    return x


def _time_invariant(module: nn.Module) -> bool:
    return isinstance(module, _TIME_INVARIANT) and not getattr(module, "inplace", False)
