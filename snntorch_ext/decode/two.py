r"""Temporally weighted output (TWO): decode ``[T, B, C]`` output currents with step weights.

Example::

    >>> import torch, snntorch_ext as snx
    >>> two = snx.TWO(num_steps=4)
    >>> two(torch.rand(4, 8, 10)).shape
    torch.Size([8, 10])
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_in_range, check_positive_int

__all__ = ["TWO", "TemporallyWeightedOutput"]


class TemporallyWeightedOutput(nn.Module):
    r"""Temporally weighted output (TWO) of Yang et al. 2024 (Eq. 15-17, Algorithm 1).

    The network's non-spiking output currents :math:`I[t]` are averaged over the ``T`` steps
    with one temporal importance factor :math:`f_t` per step:

    .. math::

        y = \frac{1}{T} \sum_{t=1}^{T} f_t\, I[t]

    The factors start at one (so TWO starts as the plain mean output) and are not learned by
    gradient descent. In training mode :meth:`observe` counts, for every step, how many samples
    the step's output alone classifies correctly; :meth:`step` (once per epoch, like a learning
    rate scheduler) turns the counts into per-step accuracies :math:`a_t` and low-pass filters
    the factors towards the relative accuracies:

    .. math::

        a_t = \frac{1}{N} \sum_{i=1}^{N} \mathbb{1}\big[\arg\max_c I_{i,c}[t] = \hat y_i\big],
        \qquad
        f_t \leftarrow \beta f_t + (1 - \beta)\, \frac{a_t}{\frac{1}{T}\sum_s a_s}

    The mean of :math:`f` stays one. In eval mode nothing is observed and :math:`f` is used as
    is. ``f`` is the buffer ``factors`` (saved in ``state_dict``, moved by ``.to()``); the
    read-only property :attr:`weights` returns a copy. The counts gathered since the last
    :meth:`step` are buffers too, so a checkpoint taken in the middle of an epoch resumes exactly.

    Choices where the paper is silent (it initialises :math:`f_t = 1/T` and divides by
    :math:`N |y|` in Eq. 16, which does not fix the scale; we fix the mean of :math:`f` at
    one, see :ref:`design-msg`): a :meth:`step` with no observed sample leaves :math:`f`
    unchanged; if no step classified any sample correctly (all :math:`a_t = 0`) the relative
    accuracies are taken as all ones (every step equally good), the limit of equal accuracies.

    Args:
        num_steps: :math:`T`, the number of time steps of the outputs it decodes.
        beta: :math:`\beta \in [0, 1]`, the factor of the low-pass filter (0.7 in the paper);
            ``beta=1`` keeps :math:`f = 1`, i.e. the plain mean output.

    Raises:
        ValueError: for ``num_steps`` not an integer >= 1, ``beta`` outside :math:`[0, 1]`,
            inputs that are not ``[T, B, C]`` with ``T = num_steps``, or labels that are not
            ``[B]`` class indices.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> two = snx.TWO(num_steps=2, beta=0.5)
        >>> out = torch.tensor([[[0., 1.], [1., 0.]], [[1., 0.], [1., 0.]]])  # [T=2, B=2, C=2]
        >>> two.observe(out, torch.tensor([0, 0]))  # step 1: 1 of 2 correct, step 2: 2 of 2
        >>> two.step()
        >>> two.weights
        tensor([0.8333, 1.1667])

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Eq. 15-17, Algorithm 1).
    """

    factors: torch.Tensor
    correct: torch.Tensor
    seen: torch.Tensor

    def __init__(self, num_steps: int, beta: float = 0.7) -> None:
        super().__init__()
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.beta = check_in_range("beta", beta, 0.0, 1.0, closed_high=True)
        self.register_buffer("factors", torch.ones(self.num_steps))
        self.register_buffer("correct", torch.zeros(self.num_steps, dtype=torch.int64))
        self.register_buffer("seen", torch.zeros((), dtype=torch.int64))

    @property
    def weights(self) -> torch.Tensor:
        """The temporal importance factors :math:`f` as a new tensor ``[T]`` (read-only view)."""
        return self.factors.detach().clone()

    def _check_outputs(self, out_seq: torch.Tensor) -> torch.Tensor:
        if not isinstance(out_seq, torch.Tensor) or out_seq.dim() != 3:
            shape = tuple(out_seq.shape) if isinstance(out_seq, torch.Tensor) else out_seq
            raise ValueError(f"out_seq must be output currents [T, B, C], got {shape!r}")
        if out_seq.shape[0] != self.num_steps:
            raise ValueError(f"out_seq has T={out_seq.shape[0]} time steps, but this TWO was "
                             f"built with num_steps={self.num_steps}")
        return out_seq

    def forward(self, out_seq: torch.Tensor) -> torch.Tensor:
        r"""Weighted mean over time, ``[T, B, C] -> [B, C]``: :math:`y = \frac{1}{T}\sum_t f_t I_t`.

        Args:
            out_seq: output currents ``[T, B, C]`` with ``T = num_steps``.
        """
        out_seq = self._check_outputs(out_seq)
        weights = self.factors.to(out_seq.dtype).view(-1, 1, 1)
        return (weights * out_seq).mean(0)

    @torch.no_grad()
    def observe(self, out_seq: torch.Tensor, labels: torch.Tensor) -> None:
        """Count the samples each step's output alone classifies correctly (training mode only).

        Args:
            out_seq: output currents ``[T, B, C]``.
            labels: class indices ``[B]`` (integers).
        """
        if not self.training:
            return
        out_seq = self._check_outputs(out_seq)
        if (not isinstance(labels, torch.Tensor) or labels.shape != out_seq.shape[1:2]
                or labels.is_floating_point() or labels.is_complex()):
            shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else labels
            raise ValueError(f"labels must be class indices [B={out_seq.shape[1]}] (integers), "
                             f"got {shape!r}")
        hits = out_seq.argmax(-1) == labels.to(out_seq.device).unsqueeze(0)
        self.correct += hits.sum(1).to(self.correct.device)
        self.seen += labels.numel()

    @torch.no_grad()
    def step(self) -> None:
        r"""Apply :math:`f \leftarrow \beta f + (1-\beta)\, a / \bar a` and clear the counts.

        Call once per accumulation period (an epoch), after the training batches. Does nothing
        if nothing was observed since the last call (e.g. only eval-mode batches).
        """
        if int(self.seen) == 0:
            return
        accuracy = self.correct.to(self.factors.dtype) / self.seen
        mean = accuracy.mean()
        relative = accuracy / mean if mean > 0 else torch.ones_like(accuracy)
        self.factors.mul_(self.beta).add_((1.0 - self.beta) * relative)
        self.correct.zero_()
        self.seen.zero_()

    def extra_repr(self) -> str:
        return f"num_steps={self.num_steps}, beta={self.beta}"


TWO = TemporallyWeightedOutput
