r"""Measure one case in the current process: times, peak memory, bytes saved for backward.

* times: ``warmup`` untimed calls, then ``repeats`` timed ones (wall clock, with
  ``torch.cuda.synchronize`` on CUDA, and the process's CPU time); median, min and max;
* peak memory: on CUDA ``torch.cuda.max_memory_allocated`` over the timed calls minus the
  memory allocated before them; on CPU the growth of the process's peak resident memory over
  the timed calls (``VmHWM`` of ``/proc/self/status``, reset through ``/proc/self/clear_refs``;
  where that is not possible, the growth of ``ru_maxrss``, which misses a peak below the
  earlier one);
* saved for backward: the bytes of the distinct storages that autograd saves during one call
  (``torch.autograd.graph.saved_tensors_hooks``), the input excluded.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .layer import layer_forward
from .training import training_step

__all__ = ["run_case"]


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class _PeakMemory:
    """Peak memory growth over a block of code, in MB (see the module docstring)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def __enter__(self) -> _PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start = torch.cuda.memory_allocated(self.device)
            self.method = "cuda max_memory_allocated"
            return self
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.start = _status_kb("VmRSS")
            self.method = "VmHWM - VmRSS"
        except OSError:
            self.start = None
        if self.start is None:
            self.start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.method = "ru_maxrss growth"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device) - self.start
            self.mb = peak / 2**20
        elif self.method == "VmHWM - VmRSS":
            self.mb = ((_status_kb("VmHWM") or 0) - self.start) / 1024
        else:
            self.mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.start) / 1024
        self.mb = max(self.mb, 0.0)  # memory freed during the calls is no negative peak


def _saved_bytes(call: Callable[[], None], exclude: torch.Tensor) -> int:
    storages: dict[int, int] = {}
    skip = exclude.untyped_storage().data_ptr()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() != skip:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        call()
    return sum(storages.values())


def _build(case: dict[str, Any], device: torch.device) -> tuple[Callable[[], None], torch.Tensor]:
    if case["group"] != "layer":
        step, x = training_step(case["group"], case, case["path"], device)
        return (lambda: step(x)), x
    forward = layer_forward(case["name"], case["path"], device)
    generator = torch.Generator().manual_seed(0)
    shape = (case["T"], case["batch"], case["width"])
    x = (torch.rand(shape, generator=generator) * 1.2).to(device).requires_grad_(True)

    def call() -> None:
        x.grad = None
        forward(x).sum().backward()

    return call, x


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_case(case: dict[str, Any], device: str = "cpu", threads: int = 0) -> dict[str, Any]:
    """Measure one case here and return its numbers (a JSON-serialisable dict).

    The first call is a warm-up call. ``status`` is ``"ok"``, or ``"unavailable"`` with a
    ``reason`` (a path this installation lacks, or a backend that cannot run the neuron);
    other failures raise.

    Example::

        >>> from snntorch_ext.bench.measure import run_case
        >>> case = {"group": "layer", "name": "snn.Leaky", "path": "per-step", "T": 2,
        ...         "batch": 2, "width": 8, "warmup": 1, "repeats": 1}
        >>> run_case(case)["status"]
        'ok'
    """
    if threads:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    try:  # a path that cannot run a neuron says so when built or at its first call
        call, x = _build(case, dev)
        call()
    except (NotImplementedError, ValueError) as err:
        return {**case, "status": "unavailable", "reason": str(err)}
    for _ in range(case["warmup"] - 1):
        call()
    _sync(dev)
    wall, cpu = [], []
    with _PeakMemory(dev) as memory:
        for _ in range(case["repeats"]):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            call()
            _sync(dev)
            wall.append(time.perf_counter() - start_wall)
            cpu.append(time.process_time() - start_cpu)
    saved = _saved_bytes(call, x)
    result = {**case, "status": "ok", "times_ms": [1e3 * s for s in wall],
              "median_ms": 1e3 * statistics.median(wall), "min_ms": 1e3 * min(wall),
              "max_ms": 1e3 * max(wall), "cpu_median_ms": 1e3 * statistics.median(cpu),
              "peak_mb": memory.mb, "memory_method": memory.method, "saved_mb": saved / 2**20,
              "threads": torch.get_num_threads()}
    if case["group"] == "layer":
        result["saved_bytes_per_neuron_step"] = saved / x.numel()
    return result
