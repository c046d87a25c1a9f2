r"""The papers' sweeps (accuracy against T or against p) gathered from run groups and plotted."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..recipes import all_recipes
from .runs import RunGroup

__all__ = ["SWEEPS", "Sweep", "SweepPlot", "sweep_plots"]


@dataclass(frozen=True)
class Sweep:
    """One sweep of a paper: which recipes belong to it, their curve and the x axis.

    ``match(name)`` returns the curve (series) a recipe name belongs to, or ``None``; ``x`` gives
    a run group's position on the x axis.

    Example::

        >>> import snntorch_ext as snx
        >>> [sweep.key for sweep in snx.reproduce.SWEEPS]
        ['bpsta-latency', 'msg-p', 'asf-t']
    """

    key: str
    title: str
    xlabel: str
    match: Callable[[str], str | None]
    x: Callable[[RunGroup], float]


def _matcher(pattern: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def match(name: str) -> str | None:
        found = compiled.fullmatch(name)
        return found.group(1) if found else None

    return match


def _mask_probability(group: RunGroup) -> float:
    return float(group.first.recipe.rpartition("-p")[2])


SWEEPS = (
    Sweep("bpsta-latency", "BPSA+BPTA, Table 9: accuracy against T (DVS-Gesture rows)",
          "time steps T", _matcher(r"bpsta-latency-(\w+)-t\d+"),
          lambda group: group.first.num_steps),
    Sweep("msg-p", "MSG, Fig. 5: accuracy against the mask probability p (DVS-CIFAR10)",
          "mask probability p", _matcher(r"msg-psweep-(.+)-p\d\.\d"), _mask_probability),
    Sweep("asf-t", "ASF: accuracy against T (MNIST)", "time steps T",
          _matcher(r"(asf-.+?)(?:-t\d+)?"),
          lambda group: group.first.num_steps),
)


@dataclass
class SweepPlot:
    r"""The points of one sweep for runs of one kind (quick or full, number of epochs).

    ``ours[series]`` holds ``(x, mean, sd, n)`` of the final test accuracy in percent;
    ``paper[series]`` the paper's ``(x, value)`` where the recipes give one.

    Example::

        >>> import snntorch_ext as snx
        >>> plot = snx.reproduce.SweepPlot(snx.reproduce.SWEEPS[0], quick=True, epochs=2)
        >>> plot.stem
        'sweep-bpsta-latency-quick-2ep'
    """

    sweep: Sweep
    quick: bool
    epochs: int
    ours: dict[str, list[tuple[float, float, float | None, int]]] = field(default_factory=dict)
    paper: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return f"sweep-{self.sweep.key}-{'quick' if self.quick else 'full'}-{self.epochs}ep"

    @property
    def title(self) -> str:
        kind = "quick" if self.quick else "full"
        return f"{self.sweep.title} ({kind} runs, {self.epochs} epochs)"

    def png(self) -> bytes:
        """The plot as PNG bytes: ours with sd error bars, the paper's values dashed."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.8))
        for index, (series, points) in enumerate(sorted(self.ours.items())):
            color = f"C{index}"
            xs, means, sds, _ = zip(*points, strict=True)
            ax.errorbar(xs, means, yerr=[sd or 0.0 for sd in sds], marker="o", capsize=3,
                        color=color, label=f"{series} (ours)")
            if self.paper.get(series):
                px, pv = zip(*self.paper[series], strict=True)
                ax.plot(px, pv, linestyle="--", marker="s", color=color,
                        label=f"{series} (paper)")
        ax.set(xlabel=self.sweep.xlabel, ylabel="test accuracy (%)")
        if self.sweep.xlabel.startswith("time"):
            ax.set_xscale("log", base=2)
            ticks = sorted({x for points in self.ours.values() for x, *_ in points})
            ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
            ax.minorticks_off()
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        ax.set_title(self.title.replace(" (", "\n(", 1), fontsize="medium")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        plt.close(fig)
        return buffer.getvalue()


def _paper_curves(sweep: Sweep) -> dict[str, list[tuple[float, float]]]:
    curves: dict[str, list[tuple[float, float]]] = {}
    for recipe in all_recipes().values():
        series = sweep.match(recipe.name)
        if series is None or recipe.paper_value is None:
            continue
        x = (recipe.num_steps if sweep.xlabel.startswith("time")
             else float(recipe.name.rpartition("-p")[2]))
        curves.setdefault(series, []).append((x, recipe.paper_value))
    return {series: sorted(points) for series, points in curves.items()}


def sweep_plots(groups: Sequence[RunGroup]) -> list[SweepPlot]:
    """The sweeps that the run groups cover with at least two points on one curve.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.reproduce.sweep_plots([])
        []
    """
    plots: list[SweepPlot] = []
    for sweep in SWEEPS:
        paper = _paper_curves(sweep)
        found: dict[tuple[bool, int], SweepPlot] = {}
        for group in groups:
            series = sweep.match(group.first.recipe)
            if series is None:
                continue
            kind = (group.first.quick, group.first.epochs)
            plot = found.setdefault(kind, SweepPlot(sweep, *kind))
            mean, sd = group.accuracy
            plot.ours.setdefault(series, []).append((sweep.x(group), mean, sd, group.n))
        for kind in sorted(found):
            plot = found[kind]
            plot.ours = {s: sorted(p) for s, p in plot.ours.items()}
            if max(len({x for x, *_ in points}) for points in plot.ours.values()) < 2:
                continue
            plot.paper = {s: paper[s] for s in plot.ours if s in paper}
            plots.append(plot)
    return plots
