"""The ``effects`` command of the command line (internal)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


def add_effects_parser(commands: Any) -> None:
    """Add the ``effects`` subcommand to the command line's subparsers."""
    effects = commands.add_parser(
        "effects", help="run the CPU protocols that test each paper's central claim with seeds")
    effects.add_argument("protocols", nargs="*", metavar="PROTOCOL",
                         help="protocols to run (none: list them)")
    effects.add_argument("--arms", help="only these arms, e.g. baseline,bpsa")
    effects.add_argument("--seeds", help="only these seeds, e.g. 0,1 (default: the protocol's)")
    effects.add_argument("--runs-dir", default="runs/effects", help="where the runs go")
    effects.add_argument("--results", help="results file the runs are added to and the tables "
                                           "read (default RUNS_DIR/effects.json)")
    effects.add_argument("--table", action="store_true",
                         help="print the protocols' tables from the results file; train nothing")
    effects.add_argument("--docs", metavar="PAGE",
                         help="write the docs page of every protocol from the results file to "
                              "PAGE (e.g. docs/effects.rst); train nothing")
    effects.add_argument("--threads", type=int, help="torch threads per run")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def effects_command(args: argparse.Namespace) -> int:
    """``snntorch-ext effects``: exit code 0, or 2 with a message for bad input."""
    import torch

    from . import PROTOCOLS
    from .effects import load_results, markdown, run_protocol, summarise, write_docs_page

    results = Path(args.results or Path(args.runs_dir) / "effects.json")
    try:
        unknown = [key for key in args.protocols if key not in PROTOCOLS]
        if unknown:
            raise ValueError(f"unknown protocol {unknown[0]!r}; the protocols are "
                             f"{', '.join(PROTOCOLS)}")
        if args.docs:
            print(f"wrote {write_docs_page(results, args.docs)}")
            return 0
        if not args.protocols:
            for protocol in PROTOCOLS.values():
                print(f"{protocol.key:14s} {protocol.runs():3d} runs  {protocol.claim}")
            return 0
        seeds = _split(args.seeds)
        seeds = None if seeds is None else [int(seed) for seed in seeds]
        if args.threads:
            torch.set_num_threads(args.threads)
        for key in args.protocols:
            protocol = PROTOCOLS[key]
            if not args.table:
                run_protocol(protocol, results, args.runs_dir, arms=_split(args.arms),
                             seeds=seeds)
            records = [r for r in load_results(results) if r.get("protocol") == key]
            print(markdown(protocol, summarise(protocol, records)))
    except ValueError as err:
        print(f"snntorch-ext: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return 0
