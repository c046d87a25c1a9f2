r"""The loss and the input encoder of accumulated spiking flow (Wu et al., AAAI 2021).

Example::

    >>> import torch, snntorch_ext as snx
    >>> x = snx.functional.signed_poisson(torch.rand(2, 1, 28, 28), num_steps=10)
    >>> x.shape
    torch.Size([10, 2, 1, 28, 28])
    >>> loss = snx.functional.asf_mse_loss()(torch.zeros(2, 10), torch.tensor([3, 7]))
    >>> loss
    tensor(0.5000)
"""

from __future__ import annotations

import torch

from .._checks import check_finite, check_positive, check_positive_int

__all__ = ["asf_mse_loss", "signed_poisson"]

_REDUCTIONS = ("mean", "sum", "none")


class asf_mse_loss:  # noqa: N801 (lower case like snntorch.functional.mse_count_loss)
    r"""ASF's loss: half the squared distance between one-hot targets and the output.

    .. math:: L = \frac{1}{B} \sum_{b=1}^{B} \frac{1}{2} \sum_{c=1}^{C} \big(Y_{bc} - y_{bc}\big)^2,
        \qquad y = \frac{V^N(T)}{T \cdot V_{\mathrm{th}}}

    ``y`` is the ``[B, C]`` output of :class:`~snntorch_ext.ASF`; ``Y`` is the one-hot code of
    class labels ``[B]`` or a given target ``[B, C]``. Summed over classes as in the paper's
    Eq. 5, which is written for one sample; the average over the batch, the factor
    :math:`1/B` (``reduction="mean"``, so :math:`\partial L / \partial y = (y - Y) / B`), is
    our choice, as in PyTorch's losses; ``reduction="sum"`` leaves it out (see
    :ref:`design-asf`).

    Args:
        reduction: ``"mean"`` (over the batch; a 0-dim tensor), ``"sum"`` (0-dim) or
            ``"none"`` (one value per sample, ``[B]``).

    Example::

        >>> import torch, snntorch_ext as snx
        >>> loss_fn = snx.functional.asf_mse_loss()
        >>> loss_fn(torch.tensor([[1.0, 0.0], [0.5, 0.5]]), torch.tensor([0, 1]))
        tensor(0.1250)

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021, Eq. 5.
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def __repr__(self) -> str:
        return f"asf_mse_loss(reduction={self.reduction!r})"

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if not isinstance(outputs, torch.Tensor) or outputs.dim() != 2:
            shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else outputs
            raise ValueError(f"outputs must be [B, C] (the output of snx.ASF), got {shape}")
        batch, classes = outputs.shape
        if targets.shape == (batch,) and not targets.is_floating_point():
            if ((targets < 0) | (targets >= classes)).any():
                raise ValueError(f"targets must be class labels in [0, {classes}), got {targets}")
            targets = torch.nn.functional.one_hot(targets.long(), classes).to(outputs.dtype)
        elif targets.shape == outputs.shape:
            check_finite("targets", targets)
        else:
            raise ValueError(
                f"targets must be class labels [B={batch}] (integer) or targets [B={batch}, "
                f"C={classes}], got {targets.dtype} {tuple(targets.shape)}"
            )
        per_sample = 0.5 * (targets - outputs).square().sum(1)
        if self.reduction == "mean":
            return per_sample.mean()
        if self.reduction == "sum":
            return per_sample.sum()
        return per_sample


def signed_poisson(x: torch.Tensor, num_steps: int, gain: float = 0.5,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Signed Poisson (Bernoulli) spikes, ASF's input encoder.

    .. math:: s(t) = \operatorname{sign}(x)\, \mathbb{1}\!\left[r(t) < c\,|x|\right],
        \qquad r(t) \sim \mathcal{U}[0, 1), \quad t = 1, \dots, T

    A pixel of intensity :math:`x` fires with probability :math:`c|x|` per step (``gain``
    :math:`c = 1/2` gives the reference rate :math:`x/2`); negative inputs give negative spikes,
    so normalised data keep their sign. Spikes have the dtype and device of ``x``.

    Args:
        x: a batch ``[B, ...]``.
        num_steps: :math:`T`.
        gain: :math:`c > 0`.
        generator: optional ``torch.Generator`` for reproducible spikes.

    Returns:
        ``[T, B, ...]`` with values in :math:`\{-1, 0, 1\}`.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> s = snx.functional.signed_poisson(-torch.ones(3), num_steps=4, gain=1.0)
        >>> s.tolist()
        [[-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]]

    Reference:
        H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. Training spiking
        neural networks with accumulated spiking flow. AAAI 2021
        (reference settings: rate :math:`x/2`).
    """
    num_steps = check_positive_int("num_steps", num_steps)
    gain = check_positive("gain", gain)
    x = check_finite("x", x if x.is_floating_point() else x.float())
    noise = torch.rand((num_steps, *x.shape), generator=generator, dtype=x.dtype,
                       device=x.device)
    return torch.sign(x) * (noise < gain * x.abs()).to(x.dtype)
