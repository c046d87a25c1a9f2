r"""Surrogate gradients usable as ``spike_grad=`` of any snnTorch neuron.

Every function here is a *factory*: it validates its arguments and returns a callable
``f(z) -> spk`` with ``z = mem - threshold``. The forward pass is snnTorch's Heaviside
:math:`H(z) = \mathbb{1}[z > 0]`; only the backward pass differs between surrogates. Unlike
snnTorch's own surrogates, the spikes keep the dtype and device of ``z`` (float64 stays float64).

Example::

    import snntorch as snn
    import snntorch_ext as snx

    lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from functools import partial

import torch
from snntorch._neurons.neurons import SpikingNeuron

from ._checks import check_in_range, check_positive

__all__ = ["SurrogateFunction", "atan", "bpsa", "masked", "piecewise_linear", "rectangular"]

GradFn = Callable[[torch.Tensor], torch.Tensor]


class SurrogateFunction(torch.autograd.Function):
    r"""Heaviside forward, ``grad_fn(z)`` as :math:`\partial o / \partial z` in backward.

    The building block of every surrogate in this module: ``SurrogateFunction.apply(z, grad_fn)``
    returns :math:`H(z)` in the dtype of ``z`` and back-propagates
    ``grad_output * grad_fn(z)``. ``grad_fn`` must be a pure function of ``z``.

    .. math:: o = H(z), \qquad \frac{\partial L}{\partial z} = \frac{\partial L}{\partial o}\, g'(z)

    Example::

        >>> import torch
        >>> from snntorch_ext.surrogate import SurrogateFunction
        >>> z = torch.tensor([-0.2, 0.3], requires_grad=True)
        >>> SurrogateFunction.apply(z, lambda z: torch.ones_like(z)).sum().backward()
        >>> z.grad
        tensor([1., 1.])
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, grad_fn: GradFn) -> torch.Tensor:
        ctx.save_for_backward(z)
        ctx.grad_fn = grad_fn
        return torch.gt(z, 0, out=torch.empty_like(z))  # H(z) in the dtype of z, no bool

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (z,) = ctx.saved_tensors
        return grad_output * ctx.grad_fn(z), None


class _Surrogate:
    """A picklable, printable ``spike_grad`` callable built from a derivative function.

    ``grad_fn`` must itself pickle: a module-level function, or a ``functools.partial`` of one
    (not a closure), so that a neuron holding the surrogate can be saved whole.
    """

    def __init__(self, name: str, grad_fn: GradFn, **params: float) -> None:
        self.name = name
        self.grad_fn = grad_fn
        self.params = params

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return SurrogateFunction.apply(z, self.grad_fn)

    def spec(self):
        """The derivative by name for the multi-step kernels (a ``kernels.spec.SurrogateSpec``)."""
        from .kernels.spec import SurrogateSpec

        (param,) = self.params.values()
        return SurrogateSpec(self.name, param, self.grad_fn)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _rectangular_grad(z: torch.Tensor, width: float) -> torch.Tensor:
    """The rectangle's derivative ``1/width`` where ``|z| < width/2``, else 0, in z's dtype."""
    # the comparison is written straight into the dtype of z: no bool tensor and no conversion
    grad = torch.lt(z.abs(), width / 2.0, out=torch.empty_like(z))
    return grad if width == 1.0 else grad.mul_(1.0 / width)  # times 1.0 changes nothing


def rectangular(width: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""STBP's rectangular surrogate gradient, the baseline of all four papers.

    .. math::

        o = H(z), \qquad
        \frac{\partial o}{\partial z} = \frac{1}{w}\,\mathbb{1}\!\left[|z| < \tfrac{w}{2}\right],
        \qquad z = u - \vartheta

    Args:
        width: width :math:`w > 0` of the window around the threshold; the height is ``1/width``
            so that the surrogate integrates to one.

    Returns:
        A ``spike_grad`` callable ``f(mem - threshold) -> spk``.

    Raises:
        ValueError: if ``width`` is not a finite number > 0.

    Example::

        >>> import torch, snntorch as snn, snntorch_ext as snx
        >>> lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.rectangular(width=1.0))
        >>> spk, mem = lif(torch.ones(2, 3), lif.init_leaky())

    Reference:
        Y. Wu, L. Deng, G. Li, J. Zhu, L. Shi. Spatio-temporal backpropagation for training
        high-performance spiking neural networks. Frontiers in Neuroscience 12:331, 2018.
    """
    width = check_positive("width", width)
    return _Surrogate("rectangular", partial(_rectangular_grad, width=width), width=width)


def _bpsa_grad(z: torch.Tensor, threshold: float | torch.Tensor) -> torch.Tensor:
    """BPSA's derivative ``1/u`` where ``u = z + threshold`` crossed the threshold, else 0.

    ``(z > 0) / (max(z, 0) + threshold)``: no ``where`` (five times faster on CPU), and the
    denominator is ``threshold > 0`` where the neuron is silent, so nothing divides by zero.
    """
    return torch.gt(z, 0, out=torch.empty_like(z)).div_(z.clamp(min=0).add_(threshold))


def bpsa(threshold: float = 0.5) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""Biologically plausible spatial adjustment (BPSA): the gradient flows only through spikes.

    A spike is read as the membrane potential normalised by itself, :math:`o = u / u`, so its
    derivative is :math:`1/u` at the steps where the neuron fires and zero elsewhere (paper
    Eq. 9):

    .. math::

        o = H(u - \vartheta), \qquad
        \frac{\partial o}{\partial u} =
        \begin{cases} 1/u & u > \vartheta \\ 0 & \text{otherwise} \end{cases}

    A neuron that fires far above threshold gets a small step, one that barely fires gets a large
    one; a silent neuron passes no error back through its spike. The authors' code computes the
    same thing as ``where(u > thr, u, 0) / u.detach()``.

    The callable receives ``z = mem - threshold`` like every snnTorch surrogate, so it must be
    told the neuron's ``threshold`` to recover :math:`u = z + \vartheta`. Give it the same value
    as the neuron: called by a snnTorch neuron with another threshold, it warns (once per
    neuron). :class:`~snntorch_ext.BPSTALeaky` (``spatial=True``) reads its own,
    possibly learnable, threshold at every step instead.

    Args:
        threshold: the firing threshold :math:`\vartheta > 0` of the neuron it is used with.

    Returns:
        A ``spike_grad`` callable ``f(mem - threshold) -> spk``; spikes keep the dtype and
        device of ``mem``.

    Raises:
        ValueError: if ``threshold`` is not a finite number > 0 (with :math:`\vartheta \le 0`
            the derivative :math:`1/u` is unbounded).

    Example::

        >>> import torch, snntorch as snn, snntorch_ext as snx
        >>> lif = snn.Leaky(beta=0.9, threshold=0.5, reset_mechanism="zero",
        ...                 spike_grad=snx.surrogate.bpsa(threshold=0.5))
        >>> spk, mem = lif(torch.full((1, 2), 2.0), lif.init_leaky())
        >>> spk
        tensor([[1., 1.]])

    Reference:
        G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible spatio-temporal
        adjustment for training deep spiking neural networks. Patterns 3(6):100522, 2022
        (arXiv:2110.08858).
    """
    threshold = check_positive("threshold", threshold)
    return _BPSA("bpsa", partial(_bpsa_grad, threshold=threshold), threshold=threshold)


class _BPSA(_Surrogate):
    """:func:`bpsa`'s callable: warns once per neuron whose threshold is not the one it was given.

    It receives only ``z = mem - threshold``; the neuron that calls it (snnTorch's ``fire`` and
    ``mem_reset`` call ``self.spike_grad(mem - self.threshold)``) is found one or two frames up.
    """

    def __init__(self, name: str, grad_fn: GradFn, **params: float) -> None:
        super().__init__(name, grad_fn, **params)
        self._checked: set[int] = set()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_checked": set()}

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        if not torch.compiler.is_compiling():
            self._check_caller(sys._getframe(1))
        return super().__call__(z)

    def _check_caller(self, frame) -> None:
        for _ in range(3):
            if frame is None:
                return
            neuron = frame.f_locals.get("self")
            if isinstance(neuron, SpikingNeuron) and neuron.spike_grad is self:
                break
            frame = frame.f_back
        else:
            return
        if id(neuron) in self._checked:
            return
        self._checked.add(id(neuron))
        expected = self.params["threshold"]
        actual = neuron.threshold.detach()
        if not torch.allclose(actual, torch.full_like(actual, expected), rtol=1e-6, atol=0.0):
            warnings.warn(
                f"bpsa(threshold={expected}) is the spike_grad of {type(neuron).__name__} with "
                f"threshold {actual.tolist()}: its gradient 1/u uses u = z + {expected}; pass "
                f"the neuron's threshold, bpsa(threshold=...), or use snx.BPSTALeaky, which "
                "reads its own", stacklevel=4)


def _piecewise_linear_grad(z: torch.Tensor, alpha: float) -> torch.Tensor:
    """PLGrad's derivative ``max(0, alpha * (1 - alpha * |z|))`` in the dtype of ``z``."""
    return z.abs().mul_(-alpha).add_(1.0).mul_(alpha).clamp_min_(0.0)  # one allocation


def piecewise_linear(alpha: float = 2.0) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""The piecewise-linear (triangle) surrogate gradient, PLGrad of the MSG paper (Eq. 8).

    .. math::

        o = H(z), \qquad
        \frac{\partial o}{\partial z} = \max\!\big(0,\; \alpha\,(1 - \alpha\,|z|)\big),
        \qquad z = u - \vartheta

    A triangle of height :math:`\alpha` and half-width :math:`1/\alpha` around the threshold; it
    integrates to one for every :math:`\alpha`. It is the default base of :func:`masked`.

    Args:
        alpha: :math:`\alpha > 0`, the sharpness; larger is narrower and taller.

    Returns:
        A ``spike_grad`` callable ``f(mem - threshold) -> spk``.

    Raises:
        ValueError: if ``alpha`` is not a finite number > 0.

    Example::

        >>> import torch, snntorch as snn, snntorch_ext as snx
        >>> lif = snn.Leaky(beta=0.5, threshold=0.5,
        ...                 spike_grad=snx.surrogate.piecewise_linear(alpha=2.0))
        >>> spk, mem = lif(torch.ones(2, 3), lif.init_leaky())

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Eq. 8). The triangle goes back to G. Bellec, D. Salaj,
        A. Subramoney, R. Legenstein, W. Maass. Long short-term memory and learning-to-learn in
        networks of spiking neurons. NeurIPS 31, 2018.
    """
    alpha = check_positive("alpha", alpha)
    return _Surrogate("piecewise_linear", partial(_piecewise_linear_grad, alpha=alpha),
                      alpha=alpha)


_MASK_LEVELS = 1 << 16  # the mask is drawn from 16 random bits per element


def _keep(like: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """A fresh 0/1 tensor like ``like`` (same shape, dtype, device), 0 with probability ``p``.

    Each element gets 16 uniform random bits, cut from full-range int64 draws (a quarter of
    the draws, and about a third of the time, of ``torch.rand``); it is dropped if those bits
    fall below ``round(p * 2**16)``, so ``p`` is applied to within :math:`2^{-17}`. Under
    ``torch.compile`` without a generator it is ``torch.rand(...) >= p`` instead (``random_``
    cannot be traced); with a generator the draw stays eager (a graph break), so the masks
    still come from that generator.
    """
    if generator is None and torch.compiler.is_compiling():
        # Tensor.random_ breaks the graph; under torch.compile the stream is the compiler's
        # anyway. 24 random bits per element: p to within 2**-25.
        return (torch.rand(like.shape, device=like.device) >= p).to(like.dtype)
    device = like.device if generator is None else generator.device
    words = torch.empty(-(-like.numel() // 4), dtype=torch.int64, device=device)
    words.random_(-(1 << 63), None, generator=generator)  # every bit uniform
    bits = words.view(torch.int16)[:like.numel()].view(like.shape)  # uniform on [-2**15, 2**15)
    keep = torch.ge(bits, _cut(p), out=torch.empty(like.shape, dtype=like.dtype, device=device))
    return keep.to(like.device)  # written into the dtype of ``like``: no bool conversion


def _cut(p: float) -> int:
    """The 16-bit level below which an element is dropped."""
    return min(round(p * _MASK_LEVELS), _MASK_LEVELS - 1) - _MASK_LEVELS // 2


def _keep_steps(like: torch.Tensor, p: float, generator: torch.Generator | None,
                dtype: torch.dtype) -> torch.Tensor:
    """The masks of every step of ``like`` ``[T, ...]``: the values of :func:`_keep` called on
    the steps from the last to the first (the order of a per-step backward pass), 0/1 in
    ``dtype``, laid out like ``like``.

    On the CPU they come from one draw of random words: the CPU generator's stream does not
    depend on how it is split into calls, so the values are those of the ``T`` draws. CUDA's
    counter-based generator (and ``torch.compile``'s tracing) draw step by step."""
    keep = torch.empty_like(like, dtype=dtype)
    steps, numel = like.shape[0], like[0].numel()
    device = like.device if generator is None else generator.device
    if device.type != "cpu" or like.device.type != "cpu" or torch.compiler.is_compiling():
        for t in range(steps - 1, -1, -1):
            keep[t] = _keep(keep[t], p, generator)
        return keep
    words = torch.empty(steps, -(-numel // 4), dtype=torch.int64)
    words.random_(-(1 << 63), None, generator=generator)  # the last step's words first
    bits = words.view(torch.int16)
    for t in range(steps):
        torch.ge(bits[steps - 1 - t, :numel].view(like.shape[1:]), _cut(p), out=keep[t])
    return keep


def _mask(grad: torch.Tensor, p: float, scale: float,
          generator: torch.Generator | None) -> torch.Tensor:
    """``grad`` times a fresh mask: 0 with probability ``p``, else ``scale`` (a new tensor)."""
    masked = _keep(grad, p, generator).mul_(grad)
    return masked.mul_(scale) if scale != 1.0 else masked


class _MaskGradient(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by a fresh Bernoulli(1 - p) mask."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, p: float, scale: float,
                generator: torch.Generator | None) -> torch.Tensor:
        ctx.p, ctx.scale, ctx.generator = p, scale, generator
        return z.view_as(z)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return _mask(grad_output, ctx.p, ctx.scale, ctx.generator), None, None, None


class _MaskedSurrogateFunction(torch.autograd.Function):
    """:class:`SurrogateFunction` and :class:`_MaskGradient` in one node (one node less per
    step); the gradient is bit-identical to the two-node form for the same random state."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, grad_fn: GradFn, p: float, scale: float,
                generator: torch.Generator | None) -> torch.Tensor:
        ctx.save_for_backward(z)
        ctx.grad_fn, ctx.p, ctx.scale, ctx.generator = grad_fn, p, scale, generator
        return torch.gt(z, 0, out=torch.empty_like(z))  # H(z) in the dtype of z, no bool

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (z,) = ctx.saved_tensors
        grad = _mask(grad_output * ctx.grad_fn(z), ctx.p, ctx.scale, ctx.generator)
        return grad, None, None, None, None


class _Masked:
    """The ``spike_grad`` callable returned by :func:`masked` (picklable, printable)."""

    def __init__(self, spike_grad: Callable[[torch.Tensor], torch.Tensor], p: float,
                 rescale: bool, generator: torch.Generator | None) -> None:
        self.spike_grad = spike_grad
        self.p = p
        self.rescale = rescale
        self.generator = generator
        self.scale = 1.0 / (1.0 - p) if rescale else 1.0

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not (z.requires_grad and torch.is_grad_enabled()):
            return self.spike_grad(z)
        if isinstance(self.spike_grad, _Surrogate):  # this package's surrogates: one node
            return _MaskedSurrogateFunction.apply(z, self.spike_grad.grad_fn, self.p,
                                                  self.scale, self.generator)
        return self.spike_grad(_MaskGradient.apply(z, self.p, self.scale, self.generator))

    def spec(self):
        """The base surrogate's spec with this mask's ``p``, scale and generator (multi-step
        kernels); None when the base is not one of this package's surrogates."""
        if not isinstance(self.spike_grad, _Surrogate):
            return None
        return self.spike_grad.spec()._replace(p=self.p, scale=self.scale,
                                               generator=self.generator)

    def __repr__(self) -> str:
        return f"masked({self.spike_grad!r}, p={self.p!r}, rescale={self.rescale!r})"


def masked(spike_grad: Callable[[torch.Tensor], torch.Tensor] | None = None, p: float = 0.5,
           rescale: bool = False, generator: torch.Generator | None = None
           ) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""Masked surrogate gradient (MSG): any surrogate, with a random part of its gradient dropped.

    The forward pass is the base surrogate's, unchanged: :math:`o = H(z)`. In the backward pass
    the surrogate derivative :math:`g'` is multiplied elementwise by a binary mask drawn afresh
    at every call (every neuron layer, time step and minibatch):

    .. math::

        \frac{\partial o}{\partial z} = s\, M \odot g'(z), \qquad
        M_i \sim \mathrm{Bernoulli}(1 - p), \qquad
        s = \begin{cases} 1/(1-p) & \text{rescale} \\ 1 & \text{otherwise (the paper)}
        \end{cases}

    ``p`` is the probability of *dropping* an entry; ``p = 0`` is exactly the base surrogate.
    The mask has the shape of the membrane potential ``z = mem - threshold`` and is drawn inside
    backward, so a forward pass whose output gets no gradient draws nothing, and the spikes are
    bit-identical with and without the mask. That shape is our choice (see
    :ref:`design-msg`): the paper's text defines the mask "congruent in shape to W" and applies
    it to the gradient computed with the surrogate (Eq. 11); we mask the surrogate derivative
    itself, one entry per neuron, time step and sample, which is what a ``spike_grad`` sees.

    The mask is a separate identity-forward autograd function in front of the base surrogate,
    so ``spike_grad`` can be any snnTorch-style callable: this package's surrogates or
    snnTorch's own (``snntorch.surrogate.atan()``, ``fast_sigmoid()``, ...). This package's
    surrogates are masked inside their own autograd node instead (one node less per step, the
    same gradient). Each element's mask is drawn from 16 random bits, so ``p`` is applied to
    within :math:`2^{-17}` (``p = 0.5`` exactly). Outside gradient mode (``torch.no_grad``,
    inputs that need no gradient) the base surrogate is called directly.

    Args:
        spike_grad: the base surrogate, a callable ``f(mem - threshold) -> spk``; default
            :func:`piecewise_linear` with ``alpha=2.0`` (PLGrad of the paper).
        p: probability of dropping a gradient entry, in :math:`[0, 1)`; the paper uses 0.5 and
            finds 0.4-0.6 best (Fig. 5).
        rescale: multiply the kept entries by :math:`1/(1-p)` so that the expected gradient
            equals the base gradient (the analysis of Eq. 13-14). Off by default, as in the
            paper's method (Eq. 11).
        generator: a ``torch.Generator`` to draw the masks from, for reproducible masks; by
            default the global random state (seeded by ``torch.manual_seed``). A generator on
            another device than the membrane works (the mask is drawn there and moved).

    Returns:
        A ``spike_grad`` callable ``f(mem - threshold) -> spk``.

    Raises:
        ValueError: if ``p`` is outside :math:`[0, 1)`, ``spike_grad`` is not callable,
            ``rescale`` is not a bool or ``generator`` is not a ``torch.Generator``.

    Example::

        >>> import torch, snntorch as snn, snntorch_ext as snx
        >>> lif = snn.Leaky(beta=0.5, threshold=0.5, reset_mechanism="zero",
        ...                 spike_grad=snx.surrogate.masked(p=0.5))
        >>> atan_msg = snx.surrogate.masked(snn.surrogate.atan(alpha=2.0), p=0.5,
        ...                                 generator=torch.Generator().manual_seed(0))

    Reference:
        L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural network with
        sparse surrogate gradient. 2024 (Eq. 10-12).
    """
    base = piecewise_linear(alpha=2.0) if spike_grad is None else spike_grad
    if not callable(base):
        raise ValueError(f"spike_grad must be a callable f(mem - threshold) -> spk or None, "
                         f"got {spike_grad!r}")
    p = check_in_range("p", p, 0.0, 1.0)
    if not isinstance(rescale, bool):
        raise ValueError(f"rescale must be True or False, got {rescale!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {generator!r}")
    return _Masked(base, p, rescale, generator)


def _atan_grad(z: torch.Tensor, alpha: float) -> torch.Tensor:
    """The arctan surrogate's derivative ``alpha/2 / (1 + (pi/2 alpha z)^2)`` in the dtype of z."""
    denominator = (torch.pi / 2.0 * alpha * z).square_().add_(1.0)
    # number / tensor takes a slow path on CPU (50x): divide a filled tensor instead, same values
    return torch.full_like(denominator, alpha / 2.0).div_(denominator)


def atan(alpha: float = 2.0) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""snnTorch's default arctan surrogate gradient, keeping the dtype of ``z``.

    .. math::

        o = H(z), \qquad
        \frac{\partial o}{\partial z}
            = \frac{\alpha / 2}{1 + \big(\tfrac{\pi}{2}\,\alpha\, z\big)^2},
        \qquad z = u - \vartheta

    The same derivative as ``snntorch.surrogate.atan(alpha)`` (the default ``spike_grad`` of every
    snnTorch neuron), but the spikes keep the dtype of ``z`` (snnTorch's are always float32).
    It integrates to one and, unlike :func:`rectangular`, is nonzero far from the threshold, so
    a silent layer still receives a gradient. It is the default of
    :class:`~snntorch_ext.PSPLeaky`.

    Args:
        alpha: :math:`\alpha > 0`, the sharpness; the peak at the threshold is :math:`\alpha/2`.

    Returns:
        A ``spike_grad`` callable ``f(mem - threshold) -> spk``.

    Raises:
        ValueError: if ``alpha`` is not a finite number > 0.

    Example::

        >>> import torch, snntorch as snn, snntorch_ext as snx
        >>> lif = snn.Leaky(beta=0.9, spike_grad=snx.surrogate.atan(alpha=2.0))
        >>> spk, mem = lif(torch.ones(2, 3, dtype=torch.float64), lif.init_leaky())
        >>> spk.dtype
        torch.float64

    Reference:
        W. Fang, Z. Yu, Y. Chen, T. Masquelier, T. Huang, Y. Tian. Incorporating learnable
        membrane time constants to enhance learning of spiking neural networks. ICCV 2021.
    """
    alpha = check_positive("alpha", alpha)
    return _Surrogate("atan", partial(_atan_grad, alpha=alpha), alpha=alpha)
