"""The ``snntorch-ext`` command line (also ``python -m snntorch_ext``).

Example::

    snntorch-ext list
    snntorch-ext list bpsta
    snntorch-ext show bpsta-mnist
    snntorch-ext train stbp-mnist --quick
    snntorch-ext train stbp-mnist --quick --resume
    snntorch-ext bench --quick
    snntorch-ext train stbp-mnist --quick --seeds 0,1,2 --out runs/stbp-seeds
    snntorch-ext report runs
    torchrun --nproc_per_node 2 -m snntorch_ext train stbp-mnist --quick --precision bf16
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import signal
import sys
import textwrap
import threading
from collections.abc import Sequence
from typing import Any

from .recipes import all_recipes

__all__ = ["huge_pages", "main", "run"]

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
    listing = commands.add_parser("list", help="one line per recipe: paper, data, T, epochs, "
                                                "table row (fits the terminal)")
    listing.add_argument("filter", nargs="?", default="",
                         help="only recipes whose name, paper, data or table row contain this")
    show = commands.add_parser("show", help="every setting of one recipe, its quick variant and "
                                            "the command of its full run")
    show.add_argument("recipe", help="recipe name (see `snntorch-ext list`)")
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
    train.add_argument("--precision", default="32", choices=("32", "bf16", "fp16"),
                       help="autocast precision: bf16 (CPU or CUDA) or fp16 (CUDA, with a loss "
                            "scaler); default 32")
    train.add_argument("--compile", action="store_true", help="train a torch.compile of the model")
    bench = commands.add_parser("bench", help="time our neurons and training steps against "
                                              "snnTorch's (see snntorch_ext.bench)")
    from .bench import add_arguments

    add_arguments(bench, default_out="bench-results")
    from .reproduce.commands import add_report_parser

    add_report_parser(commands)
    from .reproduce.effects_cli import add_effects_parser

    add_effects_parser(commands)
    return parser


def _paper_short(paper: str) -> str:
    """``"Shen, Zhao, Zeng 2022, Patterns ..."`` -> ``"Shen et al. 2022"``; else ``"JEIT 2024"``."""
    year = re.search(r"\b(19|20)\d\d\b", paper)
    first = re.match(r"([A-Z][\w-]+)(,| et al\.)", paper)
    if first and year:
        return f"{first.group(1)} et al. {year.group(0)}"
    venue = re.search(r"(\w+),? ((19|20)\d\d)\s*$", paper)
    return f"{venue.group(1)} {venue.group(2)}" if venue else paper[:20]


def _list(pattern: str = "") -> int:
    needle = pattern.lower()
    rows = [("recipe", "paper", "data", "T", "epochs", "table row")]
    groups = [""]
    for recipe in all_recipes().values():
        cells = (recipe.name, _paper_short(recipe.paper), recipe.dataset.rpartition(":")[2],
                 str(recipe.num_steps), str(recipe.epochs), recipe.table)
        if needle in " ".join((*cells, recipe.paper)).lower():
            rows.append(cells)
            groups.append(recipe.group)
    if len(rows) == 1:
        print(f"snntorch-ext: error: no recipe matches {pattern!r}", file=sys.stderr)
        return EXIT_USAGE
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    room = shutil.get_terminal_size((100, 24)).columns - sum(widths) - 2 * len(widths)
    for index, (row, group) in enumerate(zip(rows, groups, strict=True)):
        if group and group != groups[index - 1]:
            print(f"-- {group}:")  # the rows of one block of a paper's table, together
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        if room >= 12:  # else leave the table row out; `show` prints it
            cells.append(row[-1] if len(row[-1]) <= room else row[-1][:room - 3] + "...")
        print("  ".join(cells).rstrip())
    return 0


def _kwargs(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _show(name: str) -> int:
    recipes = all_recipes()
    if name not in recipes:
        close = difflib.get_close_matches(name, recipes, n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `snntorch-ext list`"
        print(f"snntorch-ext: error: unknown recipe {name!r}{hint}", file=sys.stderr)
        return EXIT_USAGE
    recipe = recipes[name]
    quick = recipe.quick_variant()
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)

    def field(label: str, value: str) -> None:
        print(textwrap.fill(value, width=width, initial_indent=f"{label:<12s}",
                            subsequent_indent=" " * 12, break_on_hyphens=False))

    field("recipe", recipe.name)
    field("paper", recipe.paper)
    field("table row", recipe.table)
    for label, path, kwargs in (
            ("data", recipe.dataset, recipe.dataset_kwargs),
            ("encoder", recipe.encoder, recipe.encoder_kwargs),
            ("network", recipe.network, recipe.network_kwargs),
            ("neuron", recipe.neuron, recipe.neuron_kwargs),
            ("spike_grad", recipe.spike_grad, recipe.spike_grad_kwargs),
            ("wrapper", recipe.wrapper, recipe.wrapper_kwargs),
            ("decoder", recipe.decoder, recipe.decoder_kwargs),
            ("loss", recipe.loss, recipe.loss_kwargs),
            ("optimizer", recipe.optimizer, recipe.optimizer_kwargs),
            ("schedule", recipe.schedule, recipe.schedule_kwargs)):
        if path:
            field(label, f"{path}({_kwargs(kwargs)})")
    field("training", f"T = {recipe.num_steps}, {recipe.epochs} epochs, batch "
                      f"{recipe.batch_size}, {recipe.num_classes} classes")
    changed = {key: getattr(quick, key) for key in recipe.quick}
    field("quick", _kwargs(changed) if changed else "same as the full run")
    if recipe.notes:
        field("notes", recipe.notes)
    field("full run", f"snntorch-ext train {recipe.name} --download --device cuda")
    field("quick run", f"snntorch-ext train {recipe.name} --quick")
    return 0


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


HUGE_PAGES = "THP_MEM_ALLOC_ENABLE"
"""PyTorch's switch for transparent huge pages under large CPU tensors (read once, at the
process's first tensor allocation)."""


def huge_pages() -> None:
    """Back large CPU tensors with transparent huge pages, unless the environment says otherwise.

    Sets ``THP_MEM_ALLOC_ENABLE=1`` (PyTorch's own switch) when it is not set: PyTorch's CPU
    allocator then aligns tensors of 2 MB and more to 2 MB and advises the kernel to back them
    with huge pages. A training step allocates the same large ``[T, B, ...]`` tensors again and
    again, and with 4 kB pages each fresh tensor page-faults once per page: filling a fresh
    40 MB tensor took 18 ms of CPU time with 4 kB pages and 5 ms with huge pages (Linux with
    ``madvise`` huge pages). Our choice for the program only (:ref:`design-engine`): it must
    run before the first tensor is allocated, which only the program's entry point can promise,
    and a library import never changes the process's memory policy. Without effect where the
    kernel has no transparent huge pages.

    Example::

        >>> import os
        >>> from snntorch_ext.cli import huge_pages
        >>> huge_pages()  # doctest: +SKIP
        >>> os.environ["THP_MEM_ALLOC_ENABLE"]  # doctest: +SKIP
        '1'
    """
    os.environ.setdefault(HUGE_PAGES, "1")


def run() -> None:
    """The ``snntorch-ext`` program: :func:`main` with the process's arguments, then exit.

    Large CPU tensors get transparent huge pages first (:func:`huge_pages`). After Ctrl-C the
    process ends at once with code 130: Python would otherwise turn an interrupt that a library
    met while importing into death by SIGINT at shutdown. Output cut short by a closed pipe
    (``snntorch-ext list | head``) ends quietly.
    """
    huge_pages()
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
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
        return _list(args.filter)
    if args.command == "show":
        return _show(args.recipe)
    if args.command == "bench":
        from .bench import run_from_args

        return run_from_args(args)
    if args.command == "effects":
        from .reproduce.effects_cli import effects_command

        return effects_command(args)
    if args.command == "report" or args.seeds is not None:
        from .reproduce.commands import report_command, seeds_command

        return report_command(args) if args.command == "report" else seeds_command(args)
    from .engine import RunError, train
    from .engine.errors import os_error_message

    try:
        summary = train(
            args.recipe, quick=args.quick, epochs=args.epochs, batch_size=args.batch_size,
            device=args.device, out=args.out, resume=args.resume,
            seed=0 if args.seed is None else args.seed,
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
