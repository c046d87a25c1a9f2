r"""Spike-train labels: target trains, van Rossum and Hamming losses, nearest-train readout.

Spike-sequence-label STBP (JEIT 2024) trains the output layer to emit a *spike train* (the
label's neuron repeats a pattern, the other neurons stay silent) instead of a firing rate.

Example::

    >>> import torch, snntorch_ext as snx
    >>> labels = torch.tensor([2, 0])
    >>> target = snx.functional.spike_train_targets(labels, num_classes=3, num_steps=4)
    >>> target[:, 0, 2]
    tensor([0., 1., 0., 1.])
    >>> loss_fn = snx.functional.van_rossum_loss(tau=4.0)
    >>> float(loss_fn(target, labels))
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_finite, check_positive, check_positive_int

__all__ = [
    "hamming_loss",
    "spike_train_accuracy",
    "spike_train_scores",
    "spike_train_targets",
    "van_rossum_filter",
    "van_rossum_loss",
]


def _check_pattern(pattern: Sequence[float]) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in pattern)
    except (TypeError, ValueError):
        raise ValueError(f"pattern must be a sequence of 0s and 1s, got {pattern!r}") from None
    if not values or any(v not in (0.0, 1.0) for v in values) or 1.0 not in values:
        raise ValueError(f"pattern must be a non-empty sequence of 0s and 1s with at least one "
                         f"spike, got {pattern!r}")
    return values


def _check_tau(tau: float) -> float:
    tau = check_positive("tau", tau)
    if tau < 1.0:
        raise ValueError(f"tau must be >= 1 (the filter decay 1 - 1/tau must lie in [0, 1)), "
                         f"got {tau!r}")
    return tau


def _check_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.is_floating_point():
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be an integer tensor [B], got {shape}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    return labels.long()


def spike_train_targets(labels: torch.Tensor, num_classes: int, num_steps: int,
                        pattern: Sequence[float] = (0, 1), dtype: torch.dtype | None = None
                        ) -> torch.Tensor:
    r"""Target spike trains ``[T, B, C]``: the label's neuron repeats ``pattern``, others silent.

    .. math::

        y_c[t] = \begin{cases} p[t \bmod |p|] & c = \text{label} \\ 0 & \text{otherwise}
        \end{cases}, \qquad t = 0, \dots, T - 1

    The pattern is cut at ``T`` (so any ``T >= 1`` works, e.g. the paper's ``T = 25`` with
    ``pattern=(0, 1)`` gives 12 spikes). The default ``(0, 1)``, a spike at every second step,
    is our choice (the paper's ``encode_repeat`` is not specified further).

    Args:
        labels: class indices ``[B]`` (an integer tensor).
        num_classes: ``C``.
        num_steps: ``T``.
        pattern: one period of the label neuron's train, 0s and 1s with at least one spike.
        dtype: floating dtype of the result (default ``torch.get_default_dtype()``).

    Returns:
        A float tensor ``[T, B, C]`` on the device of ``labels``.

    Raises:
        ValueError: labels not an integer ``[B]`` tensor or outside ``[0, C)``; ``num_classes``
            or ``num_steps`` not a positive integer; a bad ``pattern``.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.functional.spike_train_targets(torch.tensor([1]), 2, 5, pattern=(1, 0, 0))[:, 0]
        tensor([[0., 1.],
                [0., 0.],
                [0., 0.],
                [0., 1.],
                [0., 0.]])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. M. C. W. van Rossum. A novel spike distance. Neural Computation 13(4), 2001.
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020.
    """
    num_classes = check_positive_int("num_classes", num_classes)
    num_steps = check_positive_int("num_steps", num_steps)
    values = _check_pattern(pattern)
    labels = _check_labels(labels, num_classes)
    dtype = dtype or torch.get_default_dtype()
    train = torch.tensor(values, dtype=dtype, device=labels.device)
    train = train.repeat(-(-num_steps // len(values)))[:num_steps]
    one_hot = torch.nn.functional.one_hot(labels, num_classes).to(dtype)
    return train[:, None, None] * one_hot


def van_rossum_filter(trains: torch.Tensor, tau: float = 4.0) -> torch.Tensor:
    r"""Causal exponential filter of spike trains ``[T, ...]`` along time (dim 0).

    .. math:: r[t] = \Big(1 - \frac{1}{\tau}\Big)\, r[t-1] + s[t], \qquad r[-1] = 0,

    computed as one matrix product with :math:`K_{ts} = (1 - 1/\tau)^{t-s}` for
    :math:`s \le t` (differentiable, no loop over time). ``tau = 1`` leaves the trains as they
    are.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> snx.functional.van_rossum_filter(torch.tensor([1.0, 0.0, 0.0]), tau=2.0)
        tensor([1.0000, 0.5000, 0.2500])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. M. C. W. van Rossum. A novel spike distance. Neural Computation 13(4), 2001.
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020.
    """
    tau = _check_tau(tau)
    steps = torch.arange(trains.shape[0], device=trains.device)
    lag = steps[:, None] - steps[None, :]
    kernel = (1.0 - 1.0 / tau) ** lag.clamp(min=0).to(trains.dtype) * (lag >= 0).to(trains.dtype)
    return torch.tensordot(kernel, trains, dims=1)


def _targets_like(spk_out: torch.Tensor, targets: torch.Tensor, pattern: tuple[float, ...]
                  ) -> torch.Tensor:
    """Check ``spk_out`` [T, B, C] and turn ``targets`` (labels or trains) into trains."""
    if not isinstance(spk_out, torch.Tensor) or spk_out.dim() != 3:
        shape = tuple(spk_out.shape) if isinstance(spk_out, torch.Tensor) else type(spk_out)
        raise ValueError(f"spk_out must be output spike trains [T, B, C], got {shape}")
    check_finite("spk_out", spk_out)
    steps, batch, classes = spk_out.shape
    if isinstance(targets, torch.Tensor) and targets.dim() == 1:
        if targets.shape[0] != batch:
            raise ValueError(f"labels must have one entry per sample ({batch}), "
                             f"got {targets.shape[0]}")
        return spike_train_targets(targets, classes, steps, pattern, dtype=spk_out.dtype)
    if not isinstance(targets, torch.Tensor) or targets.dim() != 3:
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets)
        raise ValueError(f"targets must be labels [B] or target trains [T, B, C], got {shape}")
    if targets.shape[0] != steps:
        raise ValueError(f"targets has {targets.shape[0]} time steps but spk_out has {steps}; "
                         f"they must match")
    if targets.shape[1:] != spk_out.shape[1:]:
        raise ValueError(f"targets must have the shape of spk_out {tuple(spk_out.shape)}, "
                         f"got {tuple(targets.shape)}")
    check_finite("targets", targets)
    return targets.to(spk_out.dtype)


class van_rossum_loss:  # lower case, like the loss classes of snntorch.functional
    r"""Van Rossum distance between output and target spike trains (spike-sequence-label STBP).

    .. math::

        L = \frac{1}{2B} \sum_{b=1}^{B} \sum_{t=0}^{T-1} \sum_{c=1}^{C}
            \big( (k * o)_{b,c}[t] - (k * y)_{b,c}[t] \big)^2,

    where :math:`k *` is the causal filter of :func:`van_rossum_filter`,
    :math:`r[t] = (1 - 1/\tau) r[t-1] + s[t]`, applied to the output spikes :math:`o` and the
    target trains :math:`y`. The gradient reaches the network through the surrogate derivative
    of the output spikes:

    .. math::

        \frac{\partial L}{\partial o_{b,c}[s]} = \frac{1}{B} \sum_{t \ge s}
            \Big(1 - \frac{1}{\tau}\Big)^{t - s} \big( (k*o)_{b,c}[t] - (k*y)_{b,c}[t] \big).

    Call it with ``(spk_out [T, B, C], targets)`` where ``targets`` is either class labels
    ``[B]`` (trains are built with :func:`spike_train_targets` and ``pattern``) or target trains
    ``[T, B, C]``. Returns a 0-dim tensor. The discrete filter, ``tau = 4`` and the
    :math:`1/(2B)` normalisation are our choices (:ref:`design-ssl`; the paper only names the
    van Rossum distance).

    Args:
        tau: filter time constant :math:`\tau \ge 1` (in time steps).
        pattern: the label neuron's pattern used when labels are given.

    Raises:
        ValueError: on a bad ``tau``/``pattern``, on a ``spk_out`` that is not ``[T, B, C]`` or
            holds NaN, or on targets of another shape or number of time steps.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> loss_fn = snx.functional.van_rossum_loss(tau=4.0)
        >>> spk_out = torch.zeros(25, 8, 10, requires_grad=True)
        >>> loss = loss_fn(spk_out, torch.randint(0, 10, (8,)))
        >>> loss.backward(); loss.shape
        torch.Size([])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. M. C. W. van Rossum. A novel spike distance. Neural Computation 13(4), 2001.
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020.
    """

    def __init__(self, tau: float = 4.0, pattern: Sequence[float] = (0, 1)) -> None:
        self.tau = _check_tau(tau)
        self.pattern = _check_pattern(pattern)

    def __call__(self, spk_out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss of a batch: 0-dim tensor."""
        trains = _targets_like(spk_out, targets, self.pattern)
        error = van_rossum_filter(spk_out - trains, self.tau)  # the filter is linear
        return 0.5 * error.square().sum() / spk_out.shape[1]

    def __repr__(self) -> str:
        return f"van_rossum_loss(tau={self.tau!r}, pattern={self.pattern!r})"


class hamming_loss:  # lower case, like the loss classes of snntorch.functional
    r"""Hamming distance between output and target spike trains (spike-sequence-label STBP).

    .. math::

        L = \frac{1}{B} \sum_{b=1}^{B} \sum_{t=0}^{T-1} \sum_{c=1}^{C}
            \big| o_{b,c}[t] - y_{b,c}[t] \big|, \qquad
        \frac{\partial L}{\partial o_{b,c}[t]} = \frac{1}{B}\,
            \mathrm{sign}\big(o_{b,c}[t] - y_{b,c}[t]\big),

    the number of time bins where the output and the target differ, per sample. For binary
    trains :math:`|o - y| = (o - y)^2`; the gradient reaches the network through the surrogate
    derivative of the output spikes, and is zero where output and target agree. Call it with
    ``(spk_out [T, B, C], labels [B] or target trains [T, B, C])``; returns a 0-dim tensor. The
    :math:`1/B` normalisation and the sign gradient (that of :math:`|\cdot|`, not the
    :math:`2(o - y)` of the square) are our choices.

    Args:
        pattern: the label neuron's pattern used when labels are given.

    Raises:
        ValueError: as :class:`van_rossum_loss`.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> loss_fn = snx.functional.hamming_loss()
        >>> float(loss_fn(torch.zeros(4, 1, 3), torch.tensor([0])))  # 2 missing spikes
        2.0

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. M. C. W. van Rossum. A novel spike distance. Neural Computation 13(4), 2001.
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020.
    """

    def __init__(self, pattern: Sequence[float] = (0, 1)) -> None:
        self.pattern = _check_pattern(pattern)

    def __call__(self, spk_out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss of a batch: 0-dim tensor."""
        trains = _targets_like(spk_out, targets, self.pattern)
        return (spk_out - trains).abs().sum() / spk_out.shape[1]

    def __repr__(self) -> str:
        return f"hamming_loss(pattern={self.pattern!r})"


def spike_train_scores(out: torch.Tensor, tau: float = 4.0, pattern: Sequence[float] = (0, 1)
                       ) -> torch.Tensor:
    r"""Class scores ``[B, C]``: minus the van Rossum distance to each class's target trains.

    For output trains :math:`o \in \{0, 1\}^{T \times C}` of one sample and the target trains
    :math:`y^{(k)}` of class :math:`k` (:func:`spike_train_targets`),

    .. math::

        s_k = -D_k = -\frac{1}{2} \sum_{t, c} \big( (k*o)_c[t] - (k*y^{(k)})_c[t] \big)^2,

    so the highest score is the nearest target; this is the ``predict`` of the spike-train
    recipes. Only the label's neuron differs between the targets, so :math:`D_k` is computed
    from ``C`` single-neuron distances (no ``[C, T, B, C]`` tensor). A silent output is equally
    far from every target (ties go to the lowest class index in ``argmax``). The engine calls
    ``predict(out)`` with the defaults ``tau=4.0, pattern=(0, 1)``, those of the recipes; a
    recipe with another pattern needs a ``predict`` with that pattern.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> out = snx.functional.spike_train_targets(torch.tensor([1]), 3, 6)
        >>> snx.functional.spike_train_scores(out).argmax(-1)
        tensor([1])

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. M. C. W. van Rossum. A novel spike distance. Neural Computation 13(4), 2001.
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020.
    """
    if not isinstance(out, torch.Tensor) or out.dim() != 3:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"out must be output spike trains [T, B, C], got {shape}")
    tau, values = _check_tau(tau), _check_pattern(pattern)
    steps = out.shape[0]
    train = torch.tensor(values, dtype=out.dtype, device=out.device)
    train = train.repeat(-(-steps // len(values)))[:steps]
    filtered = van_rossum_filter(out, tau)                              # [T, B, C]
    target = van_rossum_filter(train, tau)[:, None, None]               # [T, 1, 1]
    silent = filtered.square().sum(0)                                   # D to a silent train
    labelled = (filtered - target).square().sum(0)                      # D to the pattern
    return -0.5 * (silent.sum(-1, keepdim=True) - silent + labelled)


def spike_train_accuracy(spk_out: torch.Tensor, labels: torch.Tensor, tau: float = 4.0,
                         pattern: Sequence[float] = (0, 1)) -> float:
    r"""Fraction of samples whose output trains are nearest (van Rossum) to their label's target.

    .. math::

        \mathrm{acc} = \frac{1}{B} \sum_b
            \mathbb{1}\Big[D\big(o_b, y^{(\mathrm{label}_b)}\big) < D\big(o_b, y^{(k)}\big)
            \ \ \forall k \ne \mathrm{label}_b\Big]

    with :math:`D` the van Rossum distance of :class:`van_rossum_loss` (see
    :func:`spike_train_scores`). A sample counts as right only if its label's target is the
    *unique* nearest one, so a silent output, equally far from every target, is wrong; the
    engine's accuracy, ``argmax`` of :func:`spike_train_scores`, gives such ties to the lowest
    class index instead. Using the van Rossum distance for both losses (also Hamming) and
    counting ties as wrong are our choices.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> labels = torch.tensor([0, 2])
        >>> out = snx.functional.spike_train_targets(labels, 3, 10)
        >>> snx.functional.spike_train_accuracy(out, labels)
        1.0

    Reference:
        Spiking sequence label-based spatio-temporal back-propagation algorithm for training
        deep spiking neural networks. Journal of Electronics & Information Technology (JEIT),
        2024. M. C. W. van Rossum. A novel spike distance. Neural Computation 13(4), 2001.
        W. Zhang, P. Li. Temporal spike sequence learning via backpropagation for deep spiking
        neural networks (TSSL-BP). NeurIPS 2020.
    """
    scores = spike_train_scores(spk_out, tau, pattern)
    labels = _check_labels(labels, scores.shape[1])
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(f"labels must have one entry per sample ({scores.shape[0]}), "
                         f"got {labels.shape[0]}")
    others = scores.masked_fill(torch.nn.functional.one_hot(labels, scores.shape[1]).bool(),
                                -torch.inf)
    own = scores.gather(1, labels[:, None]).squeeze(1)
    return float((own > others.max(-1).values).float().mean())
