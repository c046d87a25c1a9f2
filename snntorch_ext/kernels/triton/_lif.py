r"""Pieces shared by the Triton LIF kernels: the membrane update, its derivative, the layout.

The membrane update is snnTorch's ``Leaky`` with ``reset_delay=True``: the reset at step
:math:`t` uses the (detached) spike of step :math:`t-1`, with the ids of
``snn.Leaky.reset_dict`` (0 ``"subtract"``, 1 ``"zero"``, 2 ``"none"``):

.. math::

    u[t] = \begin{cases}
        \beta\, u[t-1] + g\, x[t] - \vartheta\, o[t-1] & \text{subtract} \\
        \beta\, \big((1 - o[t-1])\, u[t-1]\big) + g\, x[t] & \text{zero} \\
        \beta\, u[t-1] + g\, x[t] & \text{none}
    \end{cases}
    \qquad o[t] = H(u[t] - \vartheta)

with an input gain :math:`g` (1, or :math:`1 - \beta` for :class:`~snntorch_ext.MSGLeaky`).

Every tensor over time is handled as ``[T, N]`` with ``N`` the neurons of one step
(``B * C * H * W``); parameters are either one number (stride 0) or one value per neuron
(stride 1). Each program owns ``BLOCK`` neurons and loops over ``T`` inside.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

RESET_IDS = {"subtract": 0, "zero": 1, "none": 2}

#: Neurons per program. 1024 = 4 warps x 32 threads x 8 neurons: each thread moves 32 bytes
#: of a float32 tensor per step.
BLOCK = 1024
NUM_WARPS = 4


@triton.jit
def lif_update(u, o_prev, x, beta, thr, RESET: tl.constexpr):
    """``u[t]`` from ``u[t-1]``, the spike ``o[t-1]`` and the (gained) input ``x[t]``."""
    if RESET == 1:
        u = beta * ((1.0 - o_prev) * u) + x
    elif RESET == 0:
        u = beta * u + x - o_prev * thr
    else:
        u = beta * u + x
    return u


@triton.jit
def lif_carry(eps_next, o, beta, RESET: tl.constexpr):
    r""":math:`\partial u[t+1]/\partial u[t] \cdot \epsilon[t+1]` (the reset is detached)."""
    if RESET == 1:
        c = beta * (1.0 - o) * eps_next
    else:
        c = beta * eps_next
    return c


@triton.jit
def lif_dbeta(eps_next, u, o, RESET: tl.constexpr):
    r""":math:`\partial u[t+1]/\partial\beta \cdot \epsilon[t+1]`."""
    if RESET == 1:
        d = eps_next * ((1.0 - o) * u)
    else:
        d = eps_next * u
    return d


@triton.jit
def lif_dthr_reset(eps_next, o, RESET: tl.constexpr):
    r""":math:`\partial u[t+1]/\partial\vartheta \cdot \epsilon[t+1]` through the reset."""
    if RESET == 0:
        d = -o * eps_next
    else:
        d = 0.0 * eps_next
    return d


def reset_id(reset_mechanism: str) -> int:
    """The kernel id of ``reset_mechanism``; a ValueError for anything but snnTorch's three."""
    if reset_mechanism not in RESET_IDS:
        raise ValueError(f"reset_mechanism must be one of {list(RESET_IDS)}, "
                         f"got {reset_mechanism!r}")
    return RESET_IDS[reset_mechanism]


def check_sequence(name: str, x: torch.Tensor) -> torch.Tensor:
    """``x`` as a contiguous floating-point ``[T, B, ...]`` tensor (ValueError otherwise)."""
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[0] < 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor [T, B, ...] with T >= 1, got {shape}")
    if x.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"{name} must be float32, float16 or bfloat16 (the kernels compute in "
                         f"float32; float64 runs on the torch path), got {x.dtype}")
    return x.contiguous()


def per_neuron(name: str, value: float | torch.Tensor, step_shape: torch.Size,
               like: torch.Tensor) -> tuple[torch.Tensor, int]:
    """A parameter as ``(tensor, stride)``: one float32 number (stride 0) or one per neuron.

    ``value`` is a number or a tensor that broadcasts to one step, ``step_shape``
    (``x.shape[1:]``); a per-neuron tensor is expanded to ``step_shape`` and flattened.
    """
    if not isinstance(value, torch.Tensor):
        return torch.tensor([float(value)], dtype=torch.float32, device=like.device), 0
    value = value.detach().to(device=like.device, dtype=torch.float32)
    if value.numel() == 1:
        return value.reshape(1), 0
    try:
        full = value.expand(step_shape)
    except RuntimeError:
        raise ValueError(f"{name} must broadcast to one step of shape {tuple(step_shape)}, "
                         f"got shape {tuple(value.shape)}") from None
    return full.contiguous().view(-1), 1


def initial_state(name: str, value: torch.Tensor | None, step_shape: torch.Size,
                  like: torch.Tensor) -> torch.Tensor:
    """The state at ``t = -1`` as a contiguous ``[N]`` tensor (zeros for ``None`` or empty)."""
    if value is None or value.numel() == 0:
        return torch.zeros(step_shape.numel(), dtype=like.dtype, device=like.device)
    if value.shape != step_shape:
        raise ValueError(f"{name} must have the shape of one step {tuple(step_shape)}, "
                         f"got {tuple(value.shape)}")
    return value.detach().to(like.device).contiguous().view(-1)


def reduce_to(partial: torch.Tensor, step_shape: torch.Size,
              param: float | torch.Tensor) -> torch.Tensor | None:
    """Per-neuron partial gradients ``[N]`` summed to the shape of ``param`` (None for a number)."""
    if not isinstance(param, torch.Tensor):
        return None
    total = partial.view(step_shape).sum_to_size(param.shape) if param.dim() else partial.sum()
    return total.to(param.dtype)


def grid(n: int) -> tuple[int]:
    """One program per ``BLOCK`` neurons."""
    return (triton.cdiv(n, BLOCK),)
