r"""Pieces shared by the Triton kernels: the LIF membrane update and its derivative, the layout.

The membrane update is snnTorch's ``Leaky`` with ``reset_delay=True``: the reset at step
:math:`t` uses the (detached) spike of step :math:`t-1`, with the ids of
``snn.Leaky.reset_dict`` (0 ``"subtract"``, 1 ``"zero"``, 2 ``"none"``) and the input already
multiplied by its gain :math:`\gamma`:

.. math::

    u[t] = \begin{cases}
        \beta\, u[t-1] + \gamma x[t] - \vartheta\, o[t-1] & \text{subtract} \\
        \beta\, \big((1 - o[t-1])\, u[t-1]\big) + \gamma x[t] & \text{zero} \\
        \beta\, u[t-1] + \gamma x[t] & \text{none}
    \end{cases}
    \qquad o[t] = H(u[t] - \vartheta)

Every tensor over time is handled as ``[T, N]`` with ``N`` the neurons of one step
(``B * C * H * W``). Each program owns ``BLOCK`` neurons and loops over ``T`` inside.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

RESET_IDS = {"subtract": 0, "zero": 1, "none": 2}

#: Neurons per program: 4 warps x 32 threads x 8 neurons, so that each thread moves 32 bytes
#: of a float32 tensor per step. On an H200 every BLOCK from 256 to 4096 with 2 to 16 warps ran
#: within 1-2 % of the best (about 3.9 TB/s), except 8 or 16 warps at the smallest blocks.
BLOCK = 1024
NUM_WARPS = 4

DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@triton.jit
def lif_update(u, o_prev, current, beta, thr, RESET: tl.constexpr):
    """``u[t]`` from ``u[t-1]``, the spike ``o[t-1]`` and the (gained) input ``current``."""
    if RESET == 1:
        u = beta * ((1.0 - o_prev) * u) + current
    elif RESET == 0:
        u = beta * u + current - o_prev * thr
    else:
        u = beta * u + current
    return u


@triton.jit
def lif_carry(o, beta, RESET: tl.constexpr):
    r""":math:`\partial u[t+1]/\partial u[t]` through the membrane (the reset is detached)."""
    if RESET == 1:
        c = beta * (1.0 - o)
    else:
        c = beta + 0.0 * o
    return c


@triton.jit
def psp_update(a, spk, decay, tau_s, psp_ptr, BLOCK: tl.constexpr):
    """``a[t] = d a[t-1] + spk[t] / tau_s``, rounded to the PSP's dtype as the torch path rounds."""
    drive = tl.math.div_rn(spk, tl.full([BLOCK], tau_s, tl.float32))
    drive = drive.to(psp_ptr.dtype.element_ty).to(tl.float32)
    a = (decay * a).to(psp_ptr.dtype.element_ty).to(tl.float32) + drive
    return a.to(psp_ptr.dtype.element_ty).to(tl.float32)


def reset_id(reset: str) -> int:
    """The kernel id of ``reset``; a ValueError for anything but snnTorch's three mechanisms."""
    if reset not in RESET_IDS:
        raise ValueError(f"reset must be one of {list(RESET_IDS)}, got {reset!r}")
    return RESET_IDS[reset]


def number(name: str, value: float | torch.Tensor) -> float:
    """A kernel parameter as a python float; a ValueError for a tensor of several values."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be one number for the Triton kernels, got a tensor "
                             f"of shape {tuple(value.shape)}")
        return float(value.item())
    return float(value)


def over_time(name: str, x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``x`` ``[T, ...]`` and the number of elements between its steps (0 for a stride-0 view
    over time with one contiguous step, else the tensor is made contiguous)."""
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[0] < 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor [T, ...] with T >= 1, got {shape}")
    if x.dtype not in DTYPES:
        raise ValueError(f"{name} must be float32, float16 or bfloat16 for the Triton kernels, "
                         f"got {x.dtype}")
    if x.shape[0] > 1 and x.stride(0) == 0 and x[0].is_contiguous():
        return x, 0
    x = x.contiguous()
    return x, x[0].numel()


def one_step(name: str, value: torch.Tensor, step: torch.Size) -> torch.Tensor:
    """A state of one step as a contiguous tensor (ValueError for another shape)."""
    if value.shape != step:
        raise ValueError(f"{name} must have the shape of one step {tuple(step)}, "
                         f"got {tuple(value.shape)}")
    return value.contiguous()


def device_reason(x: torch.Tensor) -> str | None:
    """Why the kernels cannot run on ``x``'s device, or None (CUDA, or Triton's interpreter)."""
    if x.is_cuda or os.environ.get("TRITON_INTERPRET") == "1":
        return None
    return f"the input is on {x.device}; the Triton kernels run on CUDA (or TRITON_INTERPRET=1)"


def grid(n: int) -> tuple[int]:
    """One program per ``BLOCK`` neurons."""
    return (triton.cdiv(n, BLOCK),)
