r"""Cutting a ``[T, ...]`` sequence into blocks of neurons for the torch recursions (CPU speed).

The torch recursions (:mod:`.lif`, :mod:`.psp`) run a few element-wise operations per step. On
a large layer one step is several megabytes, so each of those operations streams it through
memory. Run block by block instead, ``[T, n]`` with :math:`n \le` :data:`BLOCK` neurons, all
steps of a block stay in the CPU's cache: the same operations on the same elements, so the same
values, bit for bit, about three times faster for a ``[8, 50, 32, 28, 28]`` layer on one core.

A block is a range of neurons in memory order, so a channels-last layer (how
:class:`~snntorch_ext.SpikingSequential` runs 2-D convolutions on the CPU) is cut without a copy;
the outputs are allocated in the memory format of the input's steps.

.. math:: x \in \mathbb{R}^{T \times N} \to \big(x_{:, 0:n},\ x_{:, n:2n},\ \dots\big)

Example::

    >>> import torch
    >>> from snntorch_ext.kernels.blocks import Layout
    >>> x = torch.zeros(4, 2, 5, 5, 3).permute(0, 1, 4, 2, 3)   # [T, B, C, H, W], channels-last
    >>> layout = Layout.of(x[0])
    >>> layout.order, layout.flat(x).shape, layout.flat(x).data_ptr() == x.data_ptr()
    ((0, 2, 3, 1), torch.Size([4, 150]), True)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import torch

__all__ = ["BLOCK", "Layout", "blocks"]

BLOCK = 1 << 16
"""Neurons per block: 256 KiB per step of a float32 tensor, so that the few tensors a step
touches fit in a core's L2 cache with room to spare (measured: 16K, 64K and 256K neurons give
17, 14 and 26 ms for the forward pass of a 10M-neuron-step layer, 45 ms unblocked)."""


class Layout(NamedTuple):
    r"""How one step ``[...]`` lies in memory: its dims from the outermost to the innermost.

    ``flat`` views a ``[T, ...]`` tensor as ``[T, N]`` in that order (a copy only for a tensor
    laid out otherwise), ``new`` allocates a ``[T, ...]`` tensor laid out that way, with its
    ``[T, N]`` view.

    .. math:: \mathrm{flat}(x)_{t, i} = x_{t, \pi^{-1}(i)}

    Example::

        >>> import torch
        >>> Layout.of(torch.zeros(2, 3)).order
        (0, 1)
    """

    order: tuple[int, ...]
    shape: tuple[int, ...]

    @staticmethod
    def of(step: torch.Tensor) -> Layout:
        """The layout of ``step`` if it is dense (no gaps, no overlaps), else the contiguous one
        (always the contiguous one while ``torch.compile`` traces).

        Example::

            >>> import torch
            >>> Layout.of(torch.zeros(3, 2).t()).order
            (1, 0)
        """
        shape = tuple(step.shape)
        if torch.compiler.is_compiling():
            return Layout(tuple(range(step.dim())), shape)
        order = tuple(sorted(range(step.dim()), key=lambda d: (-step.stride(d), d)))
        expected = 1
        for d in reversed(order):
            if shape[d] != 1 and step.stride(d) != expected:
                return Layout(tuple(range(step.dim())), shape)
            expected *= shape[d]
        return Layout(order, shape)

    @property
    def numel(self) -> int:
        """Neurons in one step."""
        count = 1
        for size in self.shape:
            count *= size
        return count

    def flat(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[T, ...]`` as ``[T, N]`` in memory order (a view where ``x`` lies so)."""
        return x.permute(0, *(d + 1 for d in self.order)).reshape(x.shape[0], self.numel)

    def flat_step(self, step: torch.Tensor) -> torch.Tensor:
        """One step ``[...]`` as ``[N]`` in memory order."""
        return step.permute(*self.order).reshape(self.numel)

    def _inverse(self) -> tuple[int, ...]:
        position = [0] * len(self.order)
        for i, d in enumerate(self.order):
            position[d] = i
        return tuple(position)

    def unflat(self, flat: torch.Tensor) -> torch.Tensor:
        """``[T, N]`` (contiguous) back to ``[T, ...]``, a view."""
        permuted = flat.view(flat.shape[0], *(self.shape[d] for d in self.order))
        return permuted.permute(0, *(i + 1 for i in self._inverse()))

    def unflat_step(self, flat: torch.Tensor) -> torch.Tensor:
        """``[N]`` (contiguous) back to one step ``[...]``, a view."""
        return flat.view(*(self.shape[d] for d in self.order)).permute(*self._inverse())

    def new(self, steps: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """An uninitialised ``[T, ...]`` tensor in this layout, as ``(flat [T, N], tensor)``."""
        flat = torch.empty(steps, self.numel, dtype=like.dtype, device=like.device)
        return flat, self.unflat(flat)


def blocks(numel: int) -> Iterator[slice]:
    """Ranges of at most :data:`BLOCK` neurons covering ``numel`` (one range while
    ``torch.compile`` traces: the compiler fuses the steps itself).

    Example::

        >>> [(s.start, s.stop) for s in blocks(150000)]
        [(0, 65536), (65536, 131072), (131072, 150000)]
    """
    size = max(numel, 1) if torch.compiler.is_compiling() else BLOCK
    for start in range(0, numel, size):
        yield slice(start, min(start + size, numel))
