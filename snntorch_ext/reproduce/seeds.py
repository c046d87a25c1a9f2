r"""Repeated runs of one recipe with different seeds, and their mean and standard deviation."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine import RunError, train
from ..recipes import Recipe
from .runs import Run, mean_sd, write_text

__all__ = ["parse_seeds", "seed_summary", "train_seeds"]

SD_NOTE = "sample standard deviation (divisor n - 1); null for a single seed"


def parse_seeds(text: str) -> list[int]:
    """The seeds of ``--seeds``: comma-separated distinct integers >= 0, such as ``"0,1,2"``.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.reproduce.parse_seeds("0,1,2")
        [0, 1, 2]
    """
    parts = [part.strip() for part in str(text).split(",")]
    if not all(part.isdigit() for part in parts):
        raise ValueError(f"--seeds must be comma-separated integers >= 0 such as 0,1,2, "
                         f"got {text!r}")
    seeds = [int(part) for part in parts]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must not repeat a seed, got {text!r}")
    return seeds


def seed_summary(runs: Sequence[Run]) -> dict[str, Any]:
    r"""Per-seed final and best test accuracy of repeated runs, with their mean and sd.

    For the :math:`n` runs' accuracies :math:`a_k` (fractions, as in ``summary.json``):

    .. math::

        \bar a = \frac{1}{n}\sum_k a_k, \qquad
        s = \sqrt{\frac{1}{n - 1}\sum_k (a_k - \bar a)^2}

    the sample standard deviation, ``None`` for one run.

    Example::

        >>> import snntorch_ext as snx
        >>> runs = [snx.reproduce.Run(recipe="stbp-mnist", quick=True, seed=s, epochs=1,
        ...                           num_steps=8, test_acc=a, best_test_acc=a, seconds=60.0,
        ...                           device="cpu") for s, a in ((0, 0.90), (1, 0.94))]
        >>> summary = snx.reproduce.seed_summary(runs)
        >>> summary["test_acc"]["mean"], summary["test_acc"]["n"]
        (0.92, 2)
    """
    if not runs:
        raise ValueError("runs must hold at least one run, got none")
    stats = {}
    for key in ("test_acc", "best_test_acc"):
        mean, sd = mean_sd([getattr(run, key) for run in runs])
        stats[key] = {"mean": mean, "sd": sd, "n": len(runs)}
    return {
        "recipe": runs[0].recipe, "quick": runs[0].quick, "seeds": [run.seed for run in runs],
        "runs": [{"seed": run.seed, "out": run.path, "test_acc": run.test_acc,
                  "best_test_acc": run.best_test_acc, "epochs": run.epochs,
                  "seconds": run.seconds, "device": run.device} for run in runs],
        **stats, "sd": SD_NOTE,
    }


def _csv(summary: dict[str, Any]) -> str:
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["seed", "test_acc", "best_test_acc", "epochs", "seconds", "device"])
    for run in summary["runs"]:
        writer.writerow([run["seed"], run["test_acc"], run["best_test_acc"], run["epochs"],
                         run["seconds"], run["device"]])
    for stat in ("mean", "sd"):
        writer.writerow([stat, summary["test_acc"][stat], summary["best_test_acc"][stat],
                         "", "", ""])
    return handle.getvalue()


def train_seeds(recipe: str | Recipe, seeds: Sequence[int], *,
                out: str | os.PathLike | None = None, quick: bool = False,
                **train_kwargs: Any) -> dict[str, Any]:
    r"""Train ``recipe`` once per seed into ``out/seed-K/`` and summarise them in ``out``.

    Each ``seed-K`` folder is an ordinary run folder (resumable with ``resume=True``, which is
    passed to every seed). ``out/seeds.json`` and ``out/seeds.csv`` hold each seed's final and
    best test accuracy and their mean and sample standard deviation (see :func:`seed_summary`).

    Args:
        recipe: a recipe name or :class:`~snntorch_ext.recipes.Recipe`.
        seeds: distinct seeds, e.g. ``[0, 1, 2]``.
        out: the folder of the seed folders; default ``runs/<recipe>[-quick]``.
        quick: use the recipe's CPU quick variant.
        **train_kwargs: passed to :func:`snntorch_ext.engine.train` for every seed.

    Returns:
        The summary written to ``seeds.json``.

    Raises:
        RunError: ``out`` holds a single run (``run.json``), no or repeated seeds, or any
            error of :func:`~snntorch_ext.engine.train`.

    Example::

        >>> import snntorch_ext as snx
        >>> summary = snx.reproduce.train_seeds("stbp-mnist", [0, 1, 2], quick=True,
        ...                                     epochs=1)  # doctest: +SKIP
        >>> summary["test_acc"]["mean"], summary["test_acc"]["sd"]  # doctest: +SKIP
    """
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise RunError(f"seeds must be one or more distinct integers, got {seeds!r}")
    if "seed" in train_kwargs:
        raise RunError("pass either seed (one run) or seeds (one run per seed), not both")
    name = recipe if isinstance(recipe, str) else recipe.name
    out = Path(out) if out is not None else Path("runs") / (name + ("-quick" if quick else ""))
    if (out / "run.json").exists():
        raise RunError(f"--out {out} holds a single run; seeds go into seed-K folders of a "
                       f"new or seeds-only folder, choose another --out")
    runs = []
    for seed in seeds:
        folder = out / f"seed-{seed}"
        train(recipe, quick=quick, out=folder, seed=seed, **train_kwargs)
        runs.append(Run.from_folder(folder, out))
    summary = seed_summary(runs)
    write_text(out / "seeds.json", json.dumps(summary, indent=2) + "\n")
    write_text(out / "seeds.csv", _csv(summary))
    return summary
