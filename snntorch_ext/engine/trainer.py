r"""The training engine: builds a recipe's parts, trains, evaluates, checkpoints and reports."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import snntorch
import torch
from tqdm.auto import tqdm

from ..recipes import Recipe
from .checkpoint import save_atomic
from .dist import Dist, start
from .errors import RunError, os_error_message
from .loop import evaluate, set_learning_rate, train_one_epoch
from .precision import Precision, compile_network
from .report import plot_curves, write_json, write_metrics
from .rundir import RunFolder, note
from .setup import (
    Parts,
    build_parts,
    check_rows,
    default_data_root,
    open_data,
    resolve_recipe,
    restore,
    seed_everything,
)

__all__ = ["train"]

EpochCallback = Callable[[int, dict[str, Any]], None]


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda was asked for, but CUDA is not available here; "
                       "use --device cpu or --device auto")
    if name not in ("cpu", "cuda"):
        raise RunError(f"device must be one of auto, cpu, cuda, got {name!r}")
    return torch.device(name)


def _versions() -> dict[str, str]:
    from .. import __version__

    return {"snntorch_ext": __version__, "snntorch": snntorch.__version__,
            "torch": torch.__version__, "python": platform.python_version()}


def _config(recipe: Recipe, quick: bool, seed: int) -> dict[str, Any]:
    return json.loads(json.dumps({"recipe": recipe.to_dict(), "quick": quick, "seed": seed}))


def _run_epoch(parts: Parts, epoch: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and evaluate one epoch; return its metrics row and the evaluation."""
    start_time = time.perf_counter()
    rank = () if parts.dist.world == 1 else (parts.dist.rank,)
    seed_everything(seed, epoch, *rank)
    set_learning_rate(parts, epoch)
    row = {"epoch": epoch + 1, **train_one_epoch(parts, epoch)}
    seed_everything(seed, epoch, "test", *rank)
    evaluation = evaluate(parts)
    row.update(test_acc=evaluation["test_acc"], firing_rate=evaluation["firing_rate"],
               lr=parts.optimizer.param_groups[0]["lr"],
               seconds=time.perf_counter() - start_time)
    return row, evaluation


def _summary(ckpt: dict[str, Any], quick: bool) -> dict[str, Any]:
    """The summary of a run, computed from its last checkpoint only (so it can be rebuilt)."""
    rows, recipe, evaluation = ckpt["rows"], ckpt["config"]["recipe"], ckpt.get("evaluation") or {}
    settings = ckpt.get("settings") or {}
    return {
        "recipe": ckpt["recipe"], "paper": recipe.get("paper"), "table": recipe.get("table"),
        "quick": quick, "test_acc": rows[-1]["test_acc"],
        "best_test_acc": max(r["test_acc"] for r in rows), "epochs": len(rows),
        "seconds": math.fsum(r["seconds"] for r in rows), "firing_rate": rows[-1]["firing_rate"],
        "layer_firing_rates": evaluation.get("layer_firing_rates"),
        "energy": evaluation.get("energy"), "device": settings.get("device"),
        "precision": settings.get("precision", "32"), "compile": settings.get("compile", False),
        "world_size": settings.get("world_size", 1), "seed": ckpt["config"]["seed"],
        "versions": _versions(),
    }


def _write_outputs(out: Path, ckpt: dict[str, Any], quick: bool, title: str) -> dict[str, Any]:
    """Write every output a checkpoint determines: metrics, curves and (if done) summary."""
    write_metrics(ckpt["rows"], out)
    plot_curves(ckpt["rows"], out / "curves.png", title)
    summary = _summary(ckpt, quick)
    if len(ckpt["rows"]) == ckpt["config"]["recipe"]["epochs"]:
        write_json(summary, out / "summary.json")
    return summary


@contextlib.contextmanager
def _writing(out: Path):
    """Turn a failed write (full disk, read-only folder) into a one-line :class:`RunError`."""
    try:
        yield
    except OSError as err:
        raise RunError(os_error_message(err, f"writing the run's files in {out}")) from None


def _finish_again(out: Path, ckpt: dict[str, Any], quick: bool, title: str,
                  run_info: dict[str, Any]) -> dict[str, Any]:
    """Resume of a finished run: rebuild what is missing, change nothing that is complete."""
    note(f"{out} holds a finished run of {ckpt['recipe']} ({len(ckpt['rows'])} epochs); "
         f"nothing to train, its outputs are rebuilt from last.pt")
    with _writing(out):
        try:
            json.loads((out / "run.json").read_text())["config"]
        except (OSError, ValueError, KeyError, TypeError):
            write_json(run_info, out / "run.json")
        return _write_outputs(out, ckpt, quick, title)


def _validate(device: str, precision: str | int, compile: bool) -> tuple[torch.device, str]:
    dev = _device(device)
    name = Precision(precision, dev).name  # checks the precision before any process starts
    if not isinstance(compile, bool):
        raise RunError(f"compile must be True or False, got {compile!r}")
    if compile:
        compile_network(torch.nn.Identity())  # checks that this PyTorch can compile
    return dev, name


def train(recipe: str | Recipe, *, quick: bool = False, epochs: int | None = None,
          batch_size: int | None = None, device: str = "auto", out: str | os.PathLike | None = None,
          resume: bool = False, seed: int = 0, data_root: str | os.PathLike | None = None,
          download: bool = False, overwrite: bool = False, progress: bool = True,
          callbacks: Sequence[EpochCallback] = (), precision: str | int = "32",
          compile: bool = False) -> dict[str, Any]:
    r"""Train and evaluate a recipe; write metrics, plots, checkpoints and a summary to ``out``.

    Every epoch :math:`e` runs with the learning rate
    :math:`\eta_e = \eta_0 \cdot f(e)` (:func:`~snntorch_ext.engine.lr_factor`), then evaluates
    on the test split and appends a row to ``metrics.jsonl``/``metrics.csv``; ``last.pt``
    (model, optimiser, history) and ``best.pt`` (best test accuracy) are written atomically.
    Random state is re-seeded from ``(seed, epoch)`` at the start of every epoch, so a run that
    is interrupted and resumed (``resume=True``) ends with bit-identical weights on the CPU.

    Started by ``torchrun``, every process trains its share of each batch with
    DistributedDataParallel; ``batch_size`` stays the global batch, and only the first process
    writes files (see :ref:`design-engine`). A non-finite input, output, loss, gradient or
    weight stops the run with a :class:`RunError` that names it, before anything is saved.

    Args:
        recipe: a recipe name (see ``snntorch-ext list``) or a
            :class:`~snntorch_ext.recipes.Recipe`.
        quick: use the recipe's CPU quick variant (offline data, fewer epochs).
        epochs: override the number of epochs.
        batch_size: override the (global) batch size.
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        out: output folder; default ``runs/<recipe>`` (``runs/<recipe>-quick`` with ``quick``).
        resume: continue the run in ``out`` from ``last.pt``.
        seed: seed of initialisation, shuffling and encoding.
        data_root: data folder; default :func:`default_data_root`.
        download: let torchvision/tonic download missing data sets.
        overwrite: replace a previous run of the same recipe in ``out`` (the old run is deleted
            only once the new one has finished its first epoch).
        progress: show tqdm bars.
        callbacks: functions ``f(epoch, row)`` called after every finished epoch.
        precision: ``"32"``, ``"bf16"`` (autocast, CPU or CUDA) or ``"fp16"`` (autocast with a
            loss scaler, CUDA only).
        compile: train a ``torch.compile`` of the model (evaluation runs the plain model).

    Returns:
        The summary written to ``summary.json``.

    Raises:
        RunError: unknown recipe, unavailable device or precision, unreadable data, an ``out``
            folder that holds another run or is in use, an unreadable or mismatched checkpoint,
            non-finite values, or a failed write. Nothing of a previous run is lost in that case.

    Example::

        >>> import snntorch_ext as snx
        >>> summary = snx.engine.train("stbp-mnist", quick=True, epochs=1)  # doctest: +SKIP
        >>> summary["test_acc"]  # doctest: +SKIP
        0.95
    """
    recipe = resolve_recipe(recipe, quick, epochs, batch_size)
    dev, precision = _validate(device, precision, compile)
    out = Path(out) if out is not None else Path("runs") / (recipe.name + "-quick" * quick)
    dist = start(dev)
    try:
        summary = _train(recipe, dist, out, quick=quick, resume=resume, seed=seed,
                         data_root=data_root, download=download, overwrite=overwrite,
                         progress=progress, callbacks=callbacks, precision=precision,
                         compile=compile)
        dist.wait_for_all()
        return summary
    finally:
        dist.close()


def _restore(parts: Parts, ckpt: dict[str, Any] | None, out: Path
             ) -> tuple[list[dict[str, Any]], float]:
    """Load ``last.pt`` into ``parts``; return its rows and best test accuracy."""
    if ckpt is None:
        return [], -1.0
    restore(parts, ckpt, out / "last.pt")
    return check_rows(ckpt, out / "last.pt")


def _begin(folder: RunFolder, out: Path, overwrite: bool, run_info: dict[str, Any]) -> None:
    """Set a replaced run aside and write ``run.json`` (first process only)."""
    with _writing(out):
        if overwrite:
            folder.replace()
        write_json(run_info, out / "run.json")


def _checkpoint(parts: Parts, run_info: dict[str, Any], rows: list[dict[str, Any]],
                best: float, evaluation: dict[str, Any]) -> dict[str, Any]:
    """``last.pt``: all a resumed run needs, and all the outputs are rebuilt from."""
    return {"format": 2, "recipe": parts.recipe.name, "config": run_info["config"],
            "epoch": len(rows), "model": parts.model.state_dict(),
            "optimizer": parts.optimizer.state_dict(), "scaler": parts.precision.state_dict(),
            "best_test_acc": best, "rows": rows, "evaluation": evaluation,
            "settings": {k: run_info[k] for k in ("device", "precision", "compile",
                                                   "world_size")}}


def _save(folder: RunFolder, out: Path, ckpt: dict[str, Any], improved: bool, quick: bool,
          title: str) -> None:
    """Write an epoch's files, ``last.pt`` last, then drop a replaced run (first process)."""
    with _writing(out):
        if improved:
            save_atomic({"recipe": ckpt["recipe"], "epoch": ckpt["epoch"],
                         "test_acc": ckpt["rows"][-1]["test_acc"], "model": ckpt["model"]},
                        out / "best.pt")
        _write_outputs(out, ckpt, quick, title)
        save_atomic(ckpt, out / "last.pt")
    folder.commit()


def _train(recipe: Recipe, dist: Dist, out: Path, *, quick: bool, resume: bool, seed: int,
           data_root: str | os.PathLike | None, download: bool, overwrite: bool, progress: bool,
           callbacks: Sequence[EpochCallback], precision: str, compile: bool) -> dict[str, Any]:
    config = _config(recipe, quick, seed)
    run_info = {"config": config, "device": str(dist.device), "precision": precision,
                "compile": compile, "world_size": dist.world, "versions": _versions()}
    title = recipe.name + (" (quick)" if quick else "")
    with RunFolder(out) if dist.is_main else contextlib.nullcontext() as folder:
        ckpt = dist.from_main(lambda: folder.check(recipe.name, config, resume, overwrite))
        root = Path(data_root).expanduser() if data_root is not None else default_data_root()
        splits = dist.main_first(lambda: open_data(recipe, root, download))
        parts = build_parts(recipe, splits, dist, Precision(precision, dist.device), compile,
                            seed, progress)
        rows, best = _restore(parts, ckpt, out)
        if len(rows) >= recipe.epochs:
            return (_finish_again(out, ckpt, quick, title, run_info) if dist.is_main
                    else _summary(ckpt, quick))
        if dist.is_main:
            _begin(folder, out, overwrite, run_info)
        bar = tqdm(range(len(rows), recipe.epochs), desc=recipe.name, initial=len(rows),
                   total=recipe.epochs, disable=not parts.progress)
        for epoch in bar:
            row, evaluation = _run_epoch(parts, epoch, seed)
            rows.append(row)
            ckpt = _checkpoint(parts, run_info, rows, max(best, row["test_acc"]), evaluation)
            if dist.is_main:
                _save(folder, out, ckpt, row["test_acc"] > best, quick, title)
            best = ckpt["best_test_acc"]
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", test_acc=f"{row['test_acc']:.4f}")
            for callback in callbacks:
                callback(epoch + 1, row)
    return _summary(ckpt, quick)
