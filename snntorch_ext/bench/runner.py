"""Run every case in a process of its own, so that its memory and allocator state are its own.

Processes are forked from a fork server that has imported torch and this package but run no
tensor operation (multiprocessing's ``forkserver``; ``spawn`` where there is none), so a case
starts in a fraction of a second instead of re-importing everything. A case that hangs past
``timeout`` seconds is killed and reported as an error; the other cases go on.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from .cases import case_id
from .measure import run_case

__all__ = ["run_isolated"]


def _child(case: dict[str, Any], device: str, threads: int, conn) -> None:
    try:
        result = run_case(case, device, threads)
    except Exception as err:  # reported in the results; the suite goes on
        result = {**case, "status": "error", "reason": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc(limit=6)}
    conn.send(result)
    conn.close()


def _context() -> multiprocessing.context.BaseContext:
    # A CUDA check while the server imports must not initialise CUDA before it forks.
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["torch", "snntorch_ext.bench.measure"])
        return context
    return multiprocessing.get_context("spawn")


def _one(context, case: dict[str, Any], device: str, threads: int,
         timeout: float) -> dict[str, Any]:
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(case, device, threads, send), daemon=True)
    process.start()
    send.close()
    try:
        if receive.poll(timeout):
            return receive.recv()
        reason = f"timed out after {timeout:.0f} s"
    except EOFError:
        reason = "the process ended without a result"
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    return {**case, "status": "error", "reason": f"{reason} (exit code {process.exitcode})"}


def _line(result: dict[str, Any]) -> str:
    if result["status"] != "ok":
        return f"{result['status']}: {result['reason'].splitlines()[0][:160]}"
    return (f"{result['median_ms']:.1f} ms (min {result['min_ms']:.1f}), "
            f"peak +{result['peak_mb']:.0f} MB, saved {result['saved_mb']:.1f} MB")


def run_isolated(cases: Sequence[dict[str, Any]], device: str = "cpu", threads: int = 0,
                 timeout: float = 600.0, log: Callable[[str], None] = print,
                 on_result: Callable[[list[dict[str, Any]]], None] | None = None,
                 ) -> list[dict[str, Any]]:
    """Measure each case in a fresh process; return the results in the order of ``cases``.

    ``on_result(results_so_far)`` is called after every case (e.g. to save partial results).

    Example::

        >>> from snntorch_ext.bench.cases import select_cases
        >>> from snntorch_ext.bench.runner import run_isolated
        >>> results = run_isolated(select_cases(True, "cpu", ["layer/snn.Leaky/per-step/*"]))
        ... # doctest: +SKIP
    """
    context = _context()
    results = []
    for i, case in enumerate(cases, 1):
        results.append(_one(context, case, device, threads, timeout))
        log(f"[{i:3d}/{len(cases)}] {case_id(case)}: {_line(results[-1])}")
        if on_result is not None:
            on_result(results)
    return results
