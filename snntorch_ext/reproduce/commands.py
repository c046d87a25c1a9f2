"""The ``report`` command and ``train --seeds`` of the command line (internal)."""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
RESULTS = "docs/results/quick_runs.json"
ESTIMATES = "docs/results/gpu_estimates.json"
PAGE = "docs/reproducing.rst"


def add_report_parser(commands: Any) -> None:
    """Add the ``report`` subcommand to the command line's subparsers."""
    report = commands.add_parser(
        "report", help="compare finished runs with the papers (report.md, report.html)")
    report.add_argument("runs_dir", nargs="?", metavar="RUNS_DIR",
                        help="folder with run folders anywhere below it")
    report.add_argument("--out", help=f"where to write (default RUNS_DIR; with --docs {PAGE})")
    report.add_argument("--results", help="with RUNS_DIR: also gather its runs into this results "
                                          f"file; with --docs: the file to read (default "
                                          f"{RESULTS})")
    report.add_argument("--docs", action="store_true",
                        help="write the 'Reproducing the papers' page from the results files")
    report.add_argument("--estimates", help=f"with --docs: GPU-time estimates (default "
                                            f"{ESTIMATES} if it exists)")


def _error(err: Exception) -> int:
    print(f"snntorch-ext: error: {err}", file=sys.stderr)
    return EXIT_USAGE


def report_command(args: argparse.Namespace) -> int:
    """``snntorch-ext report``: exit code 0, or 2 with a message for bad input."""
    from . import save_results, write_docs_page, write_report

    try:
        if args.docs == (args.runs_dir is not None):
            raise ValueError("report needs either RUNS_DIR (a report of runs) or --docs (the "
                             "docs page), not both or neither")
        if args.docs:
            estimates = args.estimates
            if estimates is None and Path(ESTIMATES).exists():
                estimates = ESTIMATES
            page = write_docs_page(args.results or RESULTS, args.out or PAGE, estimates)
            print(f"wrote {page}")
            return 0
        written = write_report(args.runs_dir, args.out)
        print(f"{written['runs']} runs in {written['groups']} groups: wrote "
              f"{written['markdown']} and {written['html']}")
        if args.results:
            count = save_results(args.runs_dir, args.results)
            print(f"gathered {count} runs into {args.results}")
    except ValueError as err:
        return _error(err)
    return 0


def _train_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``train`` options of the command line that :func:`engine.train` accepts."""
    from ..engine import train

    accepted = set(inspect.signature(train).parameters) - {"recipe", "seed", "out", "quick"}
    options = {key: value for key, value in vars(args).items() if key in accepted}
    options["progress"] = not args.no_progress
    return options


def seeds_command(args: argparse.Namespace) -> int:
    """``snntorch-ext train RECIPE --seeds 0,1,2``: one run per seed, then ``seeds.json``."""
    from ..engine import RunError
    from . import parse_seeds, train_seeds

    try:
        if args.seed is not None:
            raise RunError(f"--seed {args.seed} and --seeds {args.seeds} were both given; use "
                           f"--seed for one run or --seeds for one run per seed")
        summary = train_seeds(args.recipe, parse_seeds(args.seeds), out=args.out,
                              quick=args.quick, **_train_options(args))
    except (ValueError, FileNotFoundError) as err:
        return _error(err)
    except KeyboardInterrupt:
        print("snntorch-ext: interrupted; finished epochs are saved in each seed's last.pt, "
              "continue with --resume", file=sys.stderr)
        return 130
    for run in summary["runs"]:
        print(f"seed {run['seed']}: test accuracy {run['test_acc']:.4f} "
              f"(best {run['best_test_acc']:.4f}) after {run['epochs']} epochs")
    acc = summary["test_acc"]
    spread = "n/a" if acc["sd"] is None else f"{acc['sd']:.4f}"
    print(f"{summary['recipe']}{' (quick)' if summary['quick'] else ''}: test accuracy "
          f"{acc['mean']:.4f} +- {spread} (mean +- sample sd, n = {acc['n']}); "
          f"summary in seeds.json and seeds.csv")
    return 0
