r"""The surrogate derivatives of :mod:`snntorch_ext.surrogate` as one Triton function.

A kernel receives the surrogate as a compile-time id ``KIND`` and one parameter ``a`` (a number
or a per-neuron block), and calls :func:`surrogate_grad` in float32 at every step of its backward
recursion. With :math:`z = u - \vartheta`:

.. math::

    g'_{\mathrm{rect}}(z) &= \tfrac{1}{a}\,\mathbb{1}\big[|z| < \tfrac{a}{2}\big]
        && a = \text{width} \\
    g'_{\mathrm{pl}}(z) &= \max\big(0,\; a\,(1 - a|z|)\big) && a = \alpha \\
    g'_{\mathrm{atan}}(z) &= \frac{a/2}{1 + (\tfrac{\pi}{2} a z)^2} && a = \alpha \\
    g'_{\mathrm{bpsa}}(z) &= \frac{\mathbb{1}[z > 0]}{\max(z, 0) + a}
        && a = \vartheta \text{ (so the value is } 1/u \text{ at spikes)}

Example::

    >>> from snntorch_ext.kernels.triton.surrogate import surrogate_kind  # doctest: +SKIP
    >>> surrogate_kind("atan")  # doctest: +SKIP
    2

Reference:
    Y. Wu et al., STBP, Frontiers in Neuroscience 2018 (rectangle); L. Yang et al., MSG 2024
    (piecewise linear, Eq. 8); W. Fang et al., ICCV 2021 (arctan); G. Shen, D. Zhao, Y. Zeng,
    Patterns 2022 (BPSA, Eq. 9).
"""

from __future__ import annotations

import triton
import triton.language as tl

__all__ = ["KINDS", "surrogate_grad", "surrogate_kind"]

#: The id of each surrogate, by the name that :mod:`snntorch_ext.surrogate` prints.
KINDS: dict[str, int] = {"rectangular": 0, "piecewise_linear": 1, "atan": 2, "bpsa": 3}


def surrogate_kind(name: str) -> int:
    """The compile-time id of the surrogate called ``name`` (a key of :data:`KINDS`).

    Raises:
        ValueError: if ``name`` is not one of :data:`KINDS`.
    """
    if name not in KINDS:
        raise ValueError(f"surrogate must be one of {sorted(KINDS)}, got {name!r}")
    return KINDS[name]


@triton.jit
def surrogate_grad(z, a, KIND: tl.constexpr):
    """The derivative :math:`g'(z)` of surrogate ``KIND`` with parameter ``a`` (float32 in)."""
    if KIND == 0:  # rectangular
        g = tl.where(tl.abs(z) < a * 0.5, 1.0 / a, 0.0)
    elif KIND == 1:  # piecewise_linear
        g = tl.maximum(a * (1.0 - a * tl.abs(z)), 0.0)
    elif KIND == 2:  # atan
        w = 1.5707963267948966 * a * z
        g = (a * 0.5) / (1.0 + w * w)
    else:  # bpsa
        g = tl.where(z > 0.0, 1.0 / (tl.maximum(z, 0.0) + a), 0.0)
    return g
