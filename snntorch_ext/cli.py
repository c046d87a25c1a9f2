"""The ``snntorch-ext`` command line (also ``python -m snntorch_ext``).

Example::

    snntorch-ext list
    snntorch-ext train stbp-mnist --quick
    snntorch-ext train stbp-mnist --quick --resume
    snntorch-ext bench --quick
    snntorch-ext train stbp-mnist --quick --seeds 0,1,2 --out runs/stbp-seeds
    snntorch-ext report runs
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .recipes import all_recipes

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snntorch-ext",
        description="Train the recipes of four SNN training-rule papers with snnTorch.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every recipe with its paper, table row and settings")
    train = commands.add_parser("train", help="train and evaluate a recipe")
    train.add_argument("recipe", help="recipe name (see `snntorch-ext list`)")
    train.add_argument("--quick", action="store_true",
                       help="the CPU quick variant on offline data (minutes, no download)")
    train.add_argument("--epochs", type=int, help="override the number of epochs")
    train.add_argument("--batch-size", type=int, help="override the batch size")
    train.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    train.add_argument("--out", help="output folder (default runs/RECIPE[-quick])")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a previous run of the same recipe in --out")
    train.add_argument("--seed", type=int, help="seed of one run (default 0)")
    train.add_argument("--seeds", help="one run per seed into OUT/seed-K/, e.g. 0,1,2, and "
                                       "OUT/seeds.json with their mean and sd")
    train.add_argument("--data-root", help="data folder (default $SNNTORCH_EXT_DATA or "
                                           "~/.cache/snntorch_ext)")
    train.add_argument("--download", action="store_true",
                       help="let torchvision/tonic download missing data sets")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    bench = commands.add_parser("bench", help="time our neurons and training steps against "
                                              "snnTorch's (see snntorch_ext.bench)")
    from .bench import add_arguments

    add_arguments(bench, default_out="bench-results")
    from .reproduce.commands import add_report_parser

    add_report_parser(commands)
    return parser


def _list() -> None:
    rows = [("recipe", "paper", "table row", "dataset", "network", "T", "epochs", "quick")]
    groups = [""]
    for recipe in all_recipes().values():
        quick = recipe.quick_variant()
        groups.append(recipe.group)
        rows.append((
            recipe.name, recipe.paper, recipe.table, recipe.dataset.rpartition(":")[2],
            recipe.network.rpartition(":")[2], str(recipe.num_steps), str(recipe.epochs),
            f"{quick.dataset.rpartition(':')[2]}, T={quick.num_steps}, {quick.epochs} ep",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, (row, group) in enumerate(zip(rows, groups, strict=True)):
        if group and group != groups[index - 1]:
            print(f"-- {group}:")  # the rows of one block of a paper's table, together
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input, 130 when interrupted)."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        _list()
        return 0
    if args.command == "bench":
        from .bench import run_from_args

        return run_from_args(args)
    if args.command == "report" or args.seeds is not None:
        from .reproduce.commands import report_command, seeds_command

        return report_command(args) if args.command == "report" else seeds_command(args)
    from .engine import RunError, train

    try:
        summary = train(
            args.recipe, quick=args.quick, epochs=args.epochs, batch_size=args.batch_size,
            device=args.device, out=args.out, resume=args.resume,
            seed=0 if args.seed is None else args.seed,
            data_root=args.data_root, download=args.download, overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (RunError, FileNotFoundError) as err:
        print(f"snntorch-ext: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("snntorch-ext: interrupted; finished epochs are saved in last.pt, "
              "continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{summary['recipe']}{' (quick)' if summary['quick'] else ''}: "
          f"test accuracy {summary['test_acc']:.4f} (best {summary['best_test_acc']:.4f}) after "
          f"{summary['epochs']} epochs, {summary['seconds']:.0f} s on {summary['device']}")
    return 0
