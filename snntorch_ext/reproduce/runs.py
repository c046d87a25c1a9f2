r"""Finished runs read back from their folders, grouped into repeats, with mean and sd."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..recipes import all_recipes

__all__ = ["ReportError", "Run", "RunGroup", "find_runs", "group_runs", "mean_sd"]

# Recipe fields that describe a row but do not change what is trained: runs that differ only in
# them (or in the seed) are repeats of one experiment.
_DESCRIPTIVE = ("table", "notes", "paper", "paper_value", "paper_sd", "paper_metric",
                "paper_firing_rate", "paper_energy_ratio")


class ReportError(ValueError):
    """Runs cannot be read or reported: no runs below a folder, an unreadable run file.

    A ``ValueError``; the command line prints it and exits with code 2.

    Example::

        >>> import tempfile, snntorch_ext as snx
        >>> with tempfile.TemporaryDirectory() as empty:
        ...     try:
        ...         snx.reproduce.find_runs(empty)
        ...     except snx.reproduce.ReportError as err:
        ...         print(str(err)[:21])
        no finished run below
    """


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    r"""Mean and sample standard deviation (divisor :math:`n - 1`) of ``values``.

    .. math::

        \bar x = \frac{1}{n}\sum_i x_i, \qquad
        s = \sqrt{\frac{1}{n - 1}\sum_i (x_i - \bar x)^2}

    The sd is ``None`` for a single value (it is undefined), as for the papers' repeated runs.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.reproduce.mean_sd([0.9, 0.92, 0.94])
        (0.92, 0.02)
    """
    if not values:
        raise ValueError("values must hold at least one number, got an empty sequence")
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1:
        return round(mean, 12), None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return round(mean, 12), round(sd, 12)


@dataclass(frozen=True)
class Run:
    r"""One finished run: what ``summary.json`` and ``run.json`` of its folder say.

    Accuracies are fractions in :math:`[0, 1]` as the engine writes them; ``energy_ratio`` is
    :math:`E_{ANN}/E_{SNN}` of the last evaluation (``None`` if not measured); ``settings`` is
    a digest of the run's resolved recipe (without the seed and the descriptive fields), equal
    for repeats of one experiment.

    Example::

        >>> import snntorch_ext as snx
        >>> run = snx.reproduce.Run(recipe="stbp-mnist", quick=True, seed=0, epochs=1,
        ...                         num_steps=8, test_acc=0.9, best_test_acc=0.9, seconds=30.0,
        ...                         device="cpu")
        >>> run.to_record()["test_acc"]
        0.9
    """

    recipe: str
    quick: bool
    seed: int
    epochs: int
    num_steps: int
    test_acc: float
    best_test_acc: float
    seconds: float
    device: str
    firing_rate: float | None = None
    energy_ratio: float | None = None
    settings: str = ""
    version: str = ""
    path: str = ""
    recipe_fields: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, root: str | os.PathLike | None = None) -> Run:
        """Read the run in ``folder`` (``path`` is stored relative to ``root`` if given)."""
        folder = Path(folder)
        summary, config = _read(folder / "summary.json"), _read(folder / "run.json")
        try:
            recipe = dict(config["config"]["recipe"])
            quick = bool(config["config"]["quick"])
            energy = summary.get("energy") or {}
            settings = {k: v for k, v in recipe.items() if k not in _DESCRIPTIVE}
            return cls(
                recipe=str(summary["recipe"]), quick=quick, seed=int(summary["seed"]),
                epochs=int(summary["epochs"]), num_steps=int(recipe["num_steps"]),
                test_acc=float(summary["test_acc"]),
                best_test_acc=float(summary["best_test_acc"]),
                seconds=float(summary["seconds"]), device=str(summary["device"]),
                firing_rate=_optional(summary.get("firing_rate")),
                energy_ratio=_optional(energy.get("ratio")),
                settings=hashlib.sha256(json.dumps([settings, quick], sort_keys=True)
                                        .encode()).hexdigest()[:16],
                version=str(summary.get("versions", {}).get("snntorch_ext", "")),
                path=(folder.relative_to(root) if root is not None else folder).as_posix(),
                recipe_fields=recipe,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ReportError(f"{folder} holds a run that cannot be read ({err!r}); "
                              f"remove it or finish it with --resume") from None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Run:
        """The run of one record of a results file (see :meth:`to_record`)."""
        try:
            return cls(**record)
        except TypeError as err:
            raise ReportError(f"a results record does not describe a run: {err}") from None

    def to_record(self) -> dict[str, Any]:
        """The run as a JSON-serialisable dict (the recipe's fields left out)."""
        record = asdict(self)
        del record["recipe_fields"]
        return record


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ReportError(f"{path} is unreadable ({err}); remove the run or finish it with "
                          f"--resume") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path} does not hold a JSON object")
    return data


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file and rename; internal)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def find_runs(root: str | os.PathLike) -> list[Run]:
    """Every finished run below ``root`` (a folder with ``summary.json``), in path order.

    Folders with ``run.json`` but no ``summary.json`` (runs that never finished) are skipped.

    Raises:
        ReportError: ``root`` is not a folder, holds no finished run, or a run's files are
            unreadable.

    Example::

        >>> import snntorch_ext as snx
        >>> runs = snx.reproduce.find_runs("runs")  # doctest: +SKIP
    """
    root = Path(root)
    if not root.is_dir():
        raise ReportError(f"runs folder {str(root)!r} does not exist or is not a folder")
    folders = sorted(p.parent for p in root.rglob("summary.json"))
    if not folders:
        raise ReportError(f"no finished run below {str(root)!r} (a run folder holds "
                          f"summary.json); train one with `snntorch-ext train RECIPE --out DIR`")
    return [Run.from_folder(folder, root) for folder in folders]


@dataclass(frozen=True)
class RunGroup:
    r"""Repeats of one experiment: runs with the same recipe and settings, differing in seed.

    ``accuracy`` and ``best`` are (mean, sample sd) of the final and best test accuracy in
    percent over the ``n`` runs; the sd is ``None`` for one run.

    Example::

        >>> import snntorch_ext as snx
        >>> runs = [snx.reproduce.Run(recipe="stbp-mnist", quick=True, seed=s, epochs=1,
        ...                           num_steps=8, test_acc=a, best_test_acc=a, seconds=60.0,
        ...                           device="cpu") for s, a in ((0, 0.9), (1, 0.94))]
        >>> group = snx.reproduce.group_runs(runs)[0]
        >>> group.n, [round(v, 6) for v in group.accuracy]
        (2, [92.0, 2.828427])
    """

    runs: tuple[Run, ...]

    @property
    def first(self) -> Run:
        return self.runs[0]

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def seeds(self) -> list[int]:
        return [run.seed for run in self.runs]

    @property
    def accuracy(self) -> tuple[float, float | None]:
        return mean_sd([100 * run.test_acc for run in self.runs])

    @property
    def best(self) -> tuple[float, float | None]:
        return mean_sd([100 * run.best_test_acc for run in self.runs])

    @property
    def hours(self) -> float:
        """Mean hours of one run."""
        return math.fsum(run.seconds for run in self.runs) / self.n / 3600

    @property
    def devices(self) -> str:
        return ", ".join(sorted({run.device for run in self.runs}))

    @property
    def firing_rate(self) -> float | None:
        return _mean_of([run.firing_rate for run in self.runs])

    @property
    def energy_ratio(self) -> float | None:
        return _mean_of([run.energy_ratio for run in self.runs])

    def paper(self) -> dict[str, Any]:
        """The paper's figures of this row: the current recipe's, else those in ``run.json``."""
        recipe = all_recipes().get(self.first.recipe)
        fields = recipe.to_dict() if recipe is not None else self.first.recipe_fields
        keys = ("paper", "table") + _DESCRIPTIVE[3:]
        return {key: fields.get(key) for key in keys}


def _mean_of(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) / len(known) if known else None


def group_runs(runs: Iterable[Run]) -> list[RunGroup]:
    """Group runs into repeats (same recipe, quick flag and settings), in recipe order.

    Groups follow the order of ``snntorch-ext list`` (recipes not in it last, by name), then
    quick before full, then fewer epochs first; runs inside a group are sorted by seed.

    Example::

        >>> import snntorch_ext as snx
        >>> groups = snx.reproduce.group_runs(snx.reproduce.find_runs("runs"))  # doctest: +SKIP
    """
    buckets: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        buckets.setdefault((run.recipe, run.settings), []).append(run)
    order = {name: i for i, name in enumerate(all_recipes())}
    groups = [RunGroup(tuple(sorted(b, key=lambda r: (r.seed, r.path)))) for b in buckets.values()]
    return sorted(groups, key=lambda g: (order.get(g.first.recipe, len(order)), g.first.recipe,
                                         not g.first.quick, g.first.epochs, g.first.num_steps,
                                         g.first.settings))
