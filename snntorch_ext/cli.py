"""The ``snntorch-ext`` command line (also ``python -m snntorch_ext``).

Example::

    snntorch-ext list
    snntorch-ext train stbp-mnist --quick
    snntorch-ext train stbp-mnist --quick --resume
    torchrun --nproc_per_node 2 -m snntorch_ext train stbp-mnist --quick --precision bf16
"""

from __future__ import annotations

import argparse
import os
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
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--data-root", help="data folder (default $SNNTORCH_EXT_DATA or "
                                           "~/.cache/snntorch_ext)")
    train.add_argument("--download", action="store_true",
                       help="let torchvision/tonic download missing data sets")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    train.add_argument("--precision", default="32", choices=("32", "bf16", "fp16"),
                       help="autocast precision: bf16 (CPU or CUDA) or fp16 (CUDA, with a loss "
                            "scaler); default 32")
    train.add_argument("--compile", action="store_true", help="train a torch.compile of the model")
    return parser


def _list() -> None:
    rows = [("recipe", "paper", "table row", "dataset", "network", "T", "epochs", "quick")]
    for recipe in all_recipes().values():
        quick = recipe.quick_variant()
        rows.append((
            recipe.name, recipe.paper, recipe.table, recipe.dataset.rpartition(":")[2],
            recipe.network.rpartition(":")[2], str(recipe.num_steps), str(recipe.epochs),
            f"{quick.dataset.rpartition(':')[2]}, T={quick.num_steps}, {quick.epochs} ep",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input, 130 when interrupted)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("snntorch-ext: interrupted; finished epochs are saved in last.pt, "
              "continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        _list()
        return 0
    from .engine import RunError, train
    from .engine.errors import os_error_message

    try:
        summary = train(
            args.recipe, quick=args.quick, epochs=args.epochs, batch_size=args.batch_size,
            device=args.device, out=args.out, resume=args.resume, seed=args.seed,
            data_root=args.data_root, download=args.download, overwrite=args.overwrite,
            progress=not args.no_progress, precision=args.precision, compile=args.compile,
        )
    except (RunError, OSError) as err:
        message = os_error_message(err, "the run") if isinstance(err, OSError) else str(err)
        rank = os.environ.get("RANK", "0")
        where = "" if rank == "0" else f" (process {rank})"
        print(f"snntorch-ext: error{where}: {message}", file=sys.stderr)
        return EXIT_USAGE
    if os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun the first process reports
    print(f"{summary['recipe']}{' (quick)' if summary['quick'] else ''}: "
          f"test accuracy {summary['test_acc']:.4f} (best {summary['best_test_acc']:.4f}) after "
          f"{summary['epochs']} epochs, {summary['seconds']:.0f} s on {summary['device']}")
    return 0
