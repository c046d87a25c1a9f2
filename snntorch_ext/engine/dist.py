r"""Several processes (``torchrun``) as one run: process group, sharding and all-reduce.

A run started by ``torchrun --nproc_per_node N -m snntorch_ext train ...`` reads ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` from the environment and joins a process group (NCCL on CUDA,
gloo on the CPU). Without them the run is one process and nothing here communicates.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as torch_dist

from .errors import RunError

__all__ = ["Dist", "start"]

T = TypeVar("T")


@dataclass(frozen=True)
class Dist:
    """This process's place in the run: ``rank`` of ``world`` processes, on ``device``.

    Example::

        >>> from snntorch_ext.engine.dist import Dist
        >>> Dist().is_main, Dist(rank=1, world=2).is_main
        (True, False)
    """

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the files and shows the progress bars."""
        return self.rank == 0

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes, in place (nothing to do for one process)."""
        if self.world > 1:
            torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
        return tensor

    def any(self, flag: bool | torch.Tensor) -> bool:
        """True in every process if ``flag`` is true in any of them."""
        value = torch.as_tensor(flag, dtype=torch.float32, device=self.device).reshape(1)
        return bool(self.all_reduce_sum(value.clone()).item() > 0)

    def from_main(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0 and give its result, or its :class:`RunError`, to every rank."""
        if self.world == 1:
            return fn()
        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = ("ok", fn())
            except RunError as err:
                box[0] = ("error", str(err))
        torch_dist.broadcast_object_list(box, src=0, device=self._object_device())
        kind, value = box[0]
        if kind == "error":
            raise RunError(value)
        return value

    def main_first(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0, then on the other ranks (e.g. to write a data cache once)."""
        if self.world == 1:
            return fn()
        result: Any = None
        error = None
        if self.is_main:
            try:
                result = fn()
            except (RunError, OSError) as err:
                error = err
        failed = self.any(error is not None)
        if error is not None:
            raise error
        if failed:
            raise RunError("the main process could not prepare the run (see its message)")
        return result if self.is_main else fn()

    def _object_device(self) -> torch.device | None:
        return self.device if self.device.type == "cuda" else None

    def wait_for_all(self) -> None:
        """Wait until every process gets here (a barrier), so that none leaves the group while
        another still has collective work in flight."""
        if torch_dist.is_initialized() and self.world > 1:
            torch_dist.barrier()

    def close(self) -> None:
        """Leave the process group if :func:`start` joined it."""
        if self.owns_group and torch_dist.is_initialized():
            torch_dist.destroy_process_group()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RunError(f"environment variable {name} must be an integer, got {value!r}") from None


def start(device: torch.device) -> Dist:
    """Join the process group that ``torchrun`` describes, or stay one process.

    On CUDA each process uses the GPU ``LOCAL_RANK``.

    Example::

        >>> import torch
        >>> from snntorch_ext.engine.dist import start
        >>> start(torch.device("cpu")).world
        1
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return Dist(device=device)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise RunError(f"LOCAL_RANK {local_rank} needs GPU {local_rank}, but only "
                           f"{torch.cuda.device_count()} are visible")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = not torch_dist.is_initialized()
    if owns:
        torch_dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank=torch_dist.get_rank(), world=torch_dist.get_world_size(), device=device,
                owns_group=owns)
