r"""Multi-step neurons: one autograd node, a hand-written backward, for a whole ``[T, B, ...]``.

Layout (each rule's forward and backward recursion side by side, the classes thin on top):

* :mod:`.spec` -- ``LIFParams``, ``PSPParams``, ``SurrogateSpec``: plain parameter records.
* :mod:`.lif` -- ``lif_forward``/``lif_backward``: ``snn.Leaky``, ``MSGLeaky`` and
  ``BPSTALeaky`` (BPTA's residual is the ``alpha`` term of ``lif_backward``).
* :mod:`.psp` -- ``psp_forward``/``psp_backward``: the PSP filter of ``PSPLeaky``;
  ``lif_psp_forward``/``lif_psp_backward``: ``PSPLeaky`` whole (what ``PSPFunction`` calls).
* :mod:`.function` -- ``LIFFunction``, ``PSPFunction`` (autograd; save the membrane only) and
  ``draw_keep`` (MSG's masks, drawn from the user's generator in the per-step order).
* :mod:`.select` -- ``plan(neuron)`` (parameters or the reason it is not eligible),
  ``backend_for``, ``run_neuron`` (used by :class:`~snntorch_ext.SpikingSequential`).
* ``triton/`` -- the Triton twins: ``triton/lif.py`` and ``triton/psp.py``.

**Contract of the Triton twins** (``snntorch_ext.kernels.triton.lif`` and ``.psp``): the same
names, arguments and returns as the torch references, which define the values::

    lif_forward(x, mem0, p: LIFParams) -> (spk, mem)
        x     [T, ...] float (any float dtype; may be a stride-0 view over T: call .contiguous())
        mem0  [...]     same dtype as x
        spk   [T, ...]  x.dtype, = graded * (mem > threshold)
        mem   [T, ...]  x.dtype, the membrane u[t] after integration, before the reset
    lif_backward(grad_spk, grad_mem, mem, mem0, p: LIFParams, sg: SurrogateSpec, keep)
            -> (grad_x, grad_mem0)
        grad_spk, grad_mem  [T, ...] or None (None = zero)
        mem, mem0           as returned by / given to lif_forward (the only saved tensors;
                            spikes are recomputed as mem > threshold)
        keep                [T, ...] bool (MSG mask) or None; multiply g' by keep * sg.scale
        grad_x [T, ...], grad_mem0 [...]
    psp_forward(spk, psp0, pp: PSPParams) -> psp [T, ...]
    psp_backward(grad_psp, pp: PSPParams) -> (grad_spk [T, ...], grad_psp0 [...])
    lif_psp_forward(x, mem0, psp0, p, pp) -> (spk, psp, mem)        (in psp.py; PSPLeaky)
    lif_psp_backward(grad_spk, grad_psp, grad_mem, mem, mem0, p, pp, sg, keep)
        -> (grad_x, grad_mem0, grad_psp0 or None)   (in psp.py; both recursions in one pass)
    (optional) lif.unsupported(x, plan) -> str | None: why the twin cannot run this case.

With Triton the records hold python floats (``LIFParams(beta, threshold, reset, gain, graded,
alpha)``, ``reset`` in {"zero", "subtract", "none"}; ``SurrogateSpec(kind, param, grad_fn, p,
scale, generator)``, ``kind`` in {"rectangular" (param = width), "piecewise_linear" (alpha),
"atan" (alpha), "bpsa" (threshold)}; ``PSPParams(decay, tau_s)``). The twins draw no random
numbers. The equations are in the docstrings of :mod:`.lif` and :mod:`.psp`.

Example::

    >>> import torch, snntorch_ext as snx
    >>> from snntorch_ext.kernels import plan, run_neuron
    >>> lif = snx.MSGLeaky(init_hidden=True)
    >>> run_neuron(lif, torch.rand(8, 2, 5), "fused", plan(lif)).shape
    torch.Size([8, 2, 5])
"""

from .function import LIFFunction, PSPFunction, draw_keep
from .lif import lif_backward, lif_forward
from .psp import lif_psp_backward, lif_psp_forward, psp_backward, psp_forward
from .select import BACKENDS, Plan, backend_for, plan, run_neuron
from .spec import LIFParams, PSPParams, SurrogateSpec

__all__ = [
    "BACKENDS",
    "LIFFunction",
    "LIFParams",
    "PSPFunction",
    "PSPParams",
    "Plan",
    "SurrogateSpec",
    "backend_for",
    "draw_keep",
    "lif_backward",
    "lif_forward",
    "lif_psp_backward",
    "lif_psp_forward",
    "plan",
    "psp_backward",
    "psp_forward",
    "run_neuron",
]
