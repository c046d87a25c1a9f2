r"""The benchmark suite: ``snntorch-ext bench`` (or ``python benchmarks/run.py``).

Four groups of cases, each case measured in a process of its own on the same seeded inputs
(warm-up calls, then timed repeats: median, min, max; peak memory; bytes saved for backward):

* ``layer``: one neuron layer ``[T, 64, 4096]`` at :math:`T \in \{8, 16, 32\}`, forward and
  backward of the summed output, for ``snn.Leaky``, :class:`~snntorch_ext.BPSTALeaky` (baseline,
  BPSA, BPSA+BPTA), :class:`~snntorch_ext.MSGLeaky` and :class:`~snntorch_ext.PSPLeaky`, each
  in snnTorch's tutorial loop, our per-step path and our multi-step paths, plus SpikingJelly's
  multi-step LIF (when installed) and a hand-written plain-LIF BPTT as the floor
  (:mod:`snntorch_ext.bench.layer`);
* ``network``: one training step of the stbp-mnist network and of the MSG ResNet18, batch 32;
* ``asf``: ASF against BPTT as :math:`T` grows;
* ``msg``: the cost of the masked surrogate gradient (:mod:`snntorch_ext.bench.training`).

The time of a step is :math:`\operatorname{median}_r t_r` over the repeats :math:`r`, and every
ratio compares two cases of the same run, e.g. the speed-up of a case over snnTorch's loop,

.. math:: s = \frac{\operatorname{median}_r t_r^{\,\mathrm{snnTorch\ loop}}}
                   {\operatorname{median}_r t_r^{\,\mathrm{case}}}.

It writes ``OUT/results.md`` (the tables), ``OUT/results/bench.json`` (every number),
``OUT/results/bench.rst`` (the tables for the documentation) and ``OUT/results/bench.png``.

Example::

    >>> from snntorch_ext.bench import run_bench
    >>> summary = run_bench("bench-out", quick=True)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "main", "run_bench", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    """The options of ``snntorch-ext bench`` and ``benchmarks/run.py``, added to ``parser``.

    Example::

        >>> import argparse
        >>> from snntorch_ext.bench import add_arguments
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser, "bench-results")
        >>> parser.parse_args(["--quick"]).device
        'cpu'
    """
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats (a smoke test, under a minute)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--out", default=default_out,
                        help=f"output folder (default {default_out})")
    parser.add_argument("--cases", nargs="+", default=[], metavar="GLOB",
                        help="only the cases whose id (group/name/path/T=..) matches a glob, "
                             "e.g. 'layer/*/fused/*'")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads per case (0: torch's default)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds after which one case is stopped (default 600)")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _setup(device: str, quick: bool, threads: int) -> dict[str, Any]:
    import torch

    name = torch.cuda.get_device_name(0) if device == "cuda" else (
        f"CPU ({platform.machine()}, {os.cpu_count()} cores)")
    return {"device": device, "device_name": name, "quick": quick,
            "threads": threads or torch.get_num_threads(), "torch": torch.__version__,
            "snntorch": _version("snntorch"), "spikingjelly": _version("spikingjelly"),
            "triton": _version("triton"), "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "command": " ".join(sys.argv)}


def run_bench(out: str | Path, quick: bool = False, device: str = "cpu",
              cases: Sequence[str] = (), threads: int = 0, timeout: float = 600.0,
              log=print) -> dict[str, Any]:
    """Run the suite (or the cases matching the globs ``cases``) and write its files to ``out``.

    Returns ``{"setup": ..., "results": [...], "complete": True}``, as written to
    ``OUT/results/bench.json`` (which is rewritten after every case, with ``"complete": False``
    until the last one; an interrupted run still writes the tables of the cases it measured).
    Raises ``ValueError`` for ``device="cuda"`` without CUDA, or globs that match no case.

    Example::

        >>> from snntorch_ext.bench import run_bench
        >>> summary = run_bench("bench-out", quick=True, cases=["layer/*/T=8"])  # doctest: +SKIP
    """
    import torch

    from .cases import select_cases
    from .report import plot, tables, to_markdown, to_rst
    from .runner import run_isolated

    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but CUDA is not available here; use device='cpu'")
    chosen = select_cases(quick, device, cases)
    setup = _setup(device, quick, threads)
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)

    done: list[dict[str, Any]] = []

    def save(results: list[dict[str, Any]]) -> None:  # after every case: a stopped run keeps them
        done[:] = results
        summary = {"setup": setup, "results": results, "complete": len(results) == len(chosen)}
        (out / "results" / "bench.json").write_text(json.dumps(summary, indent=1) + "\n")

    log(f"{len(chosen)} cases on {setup['device_name']}, each in its own process")
    try:
        run_isolated(chosen, device, threads, timeout, log, on_result=save)
    finally:  # interrupted too: the tables of the cases measured so far
        all_tables = tables(done)
        (out / "results.md").write_text(to_markdown(all_tables, setup))
        (out / "results" / "bench.rst").write_text(to_rst(all_tables, setup))
        plot(done, out / "results" / "bench.png")
        log(f"wrote {out / 'results.md'} and {out / 'results'}/bench.{{json,rst,png}}")
    return {"setup": setup, "results": done, "complete": len(done) == len(chosen)}


def main(argv: Sequence[str] | None = None, default_out: str = "bench-results") -> int:
    """``snntorch-ext bench`` as a function; returns the exit code (2 for bad input).

    Example::

        >>> from snntorch_ext.bench import main
        >>> main(["--quick", "--cases", "layer/snn.Leaky/*"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(prog="snntorch-ext bench", description=__doc__.split("\n")[0])
    add_arguments(parser, default_out)
    args = parser.parse_args(argv)
    return run_from_args(args)


def run_from_args(args: argparse.Namespace) -> int:
    """Run the suite with parsed options; exit code 2 for a bad option value, 130 when
    interrupted (after writing the tables of the cases measured so far).

    Example::

        >>> import argparse
        >>> from snntorch_ext.bench import add_arguments, run_from_args
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser, "bench-results")
        >>> run_from_args(parser.parse_args(["--cases", "no-such-case"]))  # error on stderr
        2
    """
    try:
        run_bench(args.out, quick=args.quick, device=args.device, cases=args.cases,
                  threads=args.threads, timeout=args.timeout)
    except ValueError as err:
        print(f"snntorch-ext bench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"snntorch-ext bench: interrupted; the cases measured so far are in {args.out}",
              file=sys.stderr)
        return 130
    return 0
