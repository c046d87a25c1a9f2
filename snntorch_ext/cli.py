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
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from .recipes import all_recipes

__all__ = ["main", "run"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
INTERRUPTED = ("snntorch-ext: interrupted; finished epochs are saved in last.pt, continue with "
               "--resume")


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
    interrupts = _Interrupts()
    try:
        return _main(argv, interrupts)
    except BaseException:
        if not interrupts.seen and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            raise
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        interrupts.restore()


def run() -> None:
    """The ``snntorch-ext`` program: :func:`main` with the process's arguments, then exit.

    After Ctrl-C the process ends at once with code 130: Python would otherwise turn an
    interrupt that a library met while importing into death by SIGINT at shutdown.
    """
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


class _Interrupts:
    """Make Ctrl-C end the program with code 130, always.

    A library may swallow the KeyboardInterrupt (PyTorch does while it imports NumPy), so the
    first Ctrl-C also starts a timer: if the program has not ended :data:`GRACE` seconds later,
    it prints the message and exits at once. Finished epochs are safe either way (checkpoints
    are written atomically; a later run cleans up after this one).
    """

    GRACE = 3.0

    def __init__(self) -> None:
        self.seen = False
        self._previous = None
        self._timer: threading.Timer | None = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.seen = True
        if self._timer is None:
            self._timer = threading.Timer(self.GRACE, _exit_interrupted)
            self._timer.daemon = True
            self._timer.start()
        raise KeyboardInterrupt

    def restore(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _exit_interrupted() -> None:
    print(INTERRUPTED, file=sys.stderr)
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _main(argv: Sequence[str] | None, interrupts: _Interrupts) -> int:
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
        if interrupts.seen:
            raise KeyboardInterrupt from None
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
