r"""What a multi-step kernel needs to know about a neuron: plain, immutable parameter records.

A kernel never sees the neuron module. :func:`~snntorch_ext.kernels.select.plan` reads a
neuron once per call and hands the kernel these records; the torch recursions (:mod:`.lif`,
:mod:`.psp`) and their Triton twins take the same records.

Example::

    >>> from snntorch_ext.kernels.spec import LIFParams
    >>> LIFParams(beta=0.9, threshold=0.5, reset="zero").alpha
    0.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

__all__ = ["LIFParams", "PSPParams", "Scalar", "SurrogateSpec"]

Scalar = float | torch.Tensor
"""A python float or a 0-dim tensor (the neuron's own buffer, so that ``torch.compile`` does not
specialise on its value); Triton twins receive python floats."""


class LIFParams(NamedTuple):
    r"""One LIF layer with snnTorch's delayed reset, and BPTA's residual.

    .. math::

        u[t] = \beta\, c[t-1]\, u[t-1] + \gamma\, x[t] - \rho[t-1], \qquad
        o[t] = s\, H(u[t] - \vartheta)

    with :math:`c = 1 - H(u - \vartheta)` for ``reset="zero"`` (else 1) and
    :math:`\rho = \vartheta H(u - \vartheta)` for ``reset="subtract"`` (else 0).

    Attributes:
        beta: decay :math:`\beta`, already clamped to [0, 1] as ``snn.Leaky`` does.
        threshold: :math:`\vartheta`.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        gain: input gain :math:`\gamma` (:class:`~snntorch_ext.MSGLeaky`: :math:`1 - \beta`).
        graded: ``graded_spikes_factor`` :math:`s`.
        alpha: BPTA's residual factor :math:`\alpha` (0: no residual; only with ``"zero"``).

    Example::

        >>> LIFParams(beta=0.9, threshold=0.5, reset="zero", alpha=0.8).alpha
        0.8
    """

    beta: Scalar
    threshold: Scalar
    reset: str
    gain: Scalar = 1.0
    graded: Scalar = 1.0
    alpha: Scalar = 0.0


class PSPParams(NamedTuple):
    r"""The postsynaptic-potential filter of :class:`~snntorch_ext.PSPLeaky`.

    .. math:: a[t] = d\, a[t-1] + o[t] / \tau_s, \qquad d = 1 - 1/\tau_s

    Attributes:
        decay: :math:`d`, computed as the neuron computes it (``1.0 - 1.0 / tau_s``).
        tau_s: :math:`\tau_s`.

    Example::

        >>> PSPParams(decay=0.75, tau_s=4.0).decay
        0.75
    """

    decay: Scalar
    tau_s: Scalar


class SurrogateSpec(NamedTuple):
    r"""A surrogate derivative :math:`g'(z)` by name, with its torch form, and MSG's mask.

    Attributes:
        kind: ``"rectangular"`` (param = width), ``"piecewise_linear"`` (alpha), ``"atan"``
            (alpha) or ``"bpsa"`` (threshold); Triton twins switch on it.
        param: the one parameter of ``kind``.
        grad_fn: the torch derivative ``g'(z)``, ``z = u - threshold`` (the reference).
        p: MSG's drop probability (0: no mask).
        scale: factor of the kept entries (``1/(1-p)`` with ``rescale=True``, else 1).
        generator: the generator MSG draws its masks from (None: the global one).

    Example::

        >>> import snntorch_ext as snx
        >>> snx.surrogate.masked(p=0.3).spec()[:2]
        ('piecewise_linear', 2.0)
    """

    kind: str
    param: float
    grad_fn: Callable[[torch.Tensor], torch.Tensor]
    p: float = 0.0
    scale: float = 1.0
    generator: torch.Generator | None = None
