r"""Triton twins of the multi-step recursions: one forward and one backward kernel per rule.

* :mod:`.surrogate` -- ``surrogate_grad(z, a, KIND)``: every surrogate derivative of
  :mod:`snntorch_ext.surrogate` (rectangular, piecewise linear, arctan, BPSA) in float32.
* :mod:`.lif` -- ``lif_forward``/``lif_backward``: ``snn.Leaky``, ``MSGLeaky`` and
  ``BPSTALeaky`` (BPTA's residual :math:`\lambda\alpha\,g'\,\epsilon[t+1]` in the backward
  kernel), and ``unsupported(x, plan)``.
* :mod:`.psp` -- ``psp_forward``/``psp_backward``: the PSP filter of ``PSPLeaky``.

Each kernel gives one program ``BLOCK`` neurons and loops over all :math:`T` steps inside, so a
layer costs two launches (forward, backward) instead of a few per step. The functions take and
return what their torch references in :mod:`snntorch_ext.kernels` do. Nothing here is imported
until a Triton backend is asked for, so the package works without Triton.

.. math:: \epsilon[t] = \mu[t] + g'\,\big(s\,\sigma[t] + \lambda\alpha\,\epsilon[t+1]\big)
          + \lambda\, c[t]\, \epsilon[t+1]

Example::

    >>> from snntorch_ext.kernels.triton import lif    # doctest: +SKIP
    >>> lif.unsupported                                 # doctest: +SKIP
    <function unsupported at ...>
"""
