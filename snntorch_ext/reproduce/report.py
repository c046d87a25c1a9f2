r"""``report.md`` and ``report.html``: finished runs next to the papers' figures, with sweeps."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .runs import RunGroup, find_runs, group_runs, write_text
from .sweeps import SweepPlot, sweep_plots

__all__ = ["report_rows", "write_report"]

COLUMNS = ("recipe", "table row", "paper", "ours: final", "ours: best", "run", "device",
           "hours / run", "firing rate (ours / paper)", "E_ANN/E_SNN (ours / paper)")
DASH = "-"


def epochs(count: int) -> str:
    """``"1 epoch"``, ``"5 epochs"`` (internal)."""
    return f"{count} epoch{'' if count == 1 else 's'}"


def _percent(mean: float | None, sd: float | None = None) -> str:
    if mean is None:
        return DASH
    return f"{mean:.2f}%" if sd is None else f"{mean:.2f} +- {sd:.2f}%"


def _pair(ours: float | None, paper: float | None, digits: int, suffix: str = "") -> str:
    """``ours / paper`` where the paper reports the figure, else a dash."""
    if paper is None:
        return DASH
    mine = DASH if ours is None else f"{ours:.{digits}f}{suffix}"
    return f"{mine} / {paper:.{digits}f}{suffix}"


def report_rows(groups: Sequence[RunGroup]) -> list[tuple[str, list[str]]]:
    r"""One row of strings (see ``COLUMNS``) per run group, with the group's paper.

    Accuracies are the mean :math:`\pm` sample sd over the group's seeds, in percent, followed
    by ``n``; firing rate and :math:`E_{ANN}/E_{SNN}` are shown where the paper reports them.

    Example::

        >>> import snntorch_ext as snx
        >>> run = snx.reproduce.Run(recipe="stbp-mnist", quick=True, seed=0, epochs=1,
        ...                         num_steps=8, test_acc=0.9, best_test_acc=0.9, seconds=72.0,
        ...                         device="cpu")
        >>> paper, row = snx.reproduce.report_rows(snx.reproduce.group_runs([run]))[0]
        >>> row[2], row[3], row[5]
        ('99.42%', '90.00% (n = 1)', 'quick, 1 epoch')
    """
    rows = []
    for group in groups:
        paper = group.paper()
        mean, sd = group.accuracy
        best_mean, best_sd = group.best
        first = group.first
        row = [
            first.recipe, paper["table"] or DASH,
            _percent(paper["paper_value"], paper["paper_sd"]),
            f"{_percent(mean, sd)} (n = {group.n})", _percent(best_mean, best_sd),
            f"{'quick' if first.quick else 'full'}, {epochs(first.epochs)}", group.devices,
            f"{group.hours:.3f}",
            _pair(group.firing_rate, paper["paper_firing_rate"], 3),
            _pair(group.energy_ratio, paper["paper_energy_ratio"], 1, "x"),
        ]
        rows.append((paper["paper"] or DASH, row))
    return rows


def _intro(groups: Sequence[RunGroup], root: Path) -> list[str]:
    runs = sum(group.n for group in groups)
    return [
        f"{runs} finished runs below `{root.as_posix()}`, in {len(groups)} groups of repeats "
        f"(same recipe and settings, different seeds).",
        "Ours: final and best test accuracy, mean +- sample standard deviation (divisor "
        "n - 1) over the seeds of a group, n runs. Paper: the number of the paper's table row "
        "(+- its sd where it gives one). Hours: mean wall-clock time of one run. Firing rate "
        "and E_ANN/E_SNN (Eq. 11 of the BPSA+BPTA paper) are shown where the paper reports "
        "them. Quick runs use the recipes' CPU variants on offline data: they check that a "
        "recipe trains, not the paper's number.",
    ]


def _by_paper(rows: list[tuple[str, list[str]]]) -> dict[str, list[list[str]]]:
    papers: dict[str, list[list[str]]] = {}
    for paper, row in rows:
        papers.setdefault(paper, []).append(row)
    return papers


def _markdown(groups: Sequence[RunGroup], plots: Sequence[SweepPlot], root: Path) -> str:
    def cells(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = ["# Reproduction report", "", *(f"{p}\n" for p in _intro(groups, root))]
    for paper, rows in _by_paper(report_rows(groups)).items():
        lines += [f"## {paper}", "", cells(COLUMNS), cells(["---"] * len(COLUMNS))]
        lines += [cells(row) for row in rows]
        lines.append("")
    if plots:
        lines += ["## Sweeps", ""]
        for plot in plots:
            lines += [f"### {plot.title}", "", f"![{plot.title}]({plot.stem}.png)", ""]
    return "\n".join(lines)


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
img { max-width: 100%; }
"""


def _html(groups: Sequence[RunGroup], plots: Sequence[SweepPlot], images: dict[str, bytes],
          root: Path) -> str:
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>Reproduction report</title>", f"<style>{_STYLE}</style>", "</head>",
             "<body>", "<h1>Reproduction report</h1>"]
    parts += [f"<p>{esc(paragraph)}</p>" for paragraph in _intro(groups, root)]
    for paper, rows in _by_paper(report_rows(groups)).items():
        parts += [f"<h2>{esc(paper)}</h2>", "<table>",
                  "<tr>" + "".join(f"<th>{esc(c)}</th>" for c in COLUMNS) + "</tr>"]
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    if plots:
        parts.append("<h2>Sweeps</h2>")
        for plot in plots:
            data = base64.b64encode(images[plot.stem]).decode("ascii")
            parts += [f"<h3>{esc(plot.title)}</h3>",
                      f'<img alt="{esc(plot.title)}" src="data:image/png;base64,{data}">']
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_report(runs_dir: str | os.PathLike, out: str | os.PathLike | None = None
                 ) -> dict[str, Any]:
    """Read every finished run below ``runs_dir``; write ``report.md`` and ``report.html``.

    Runs are grouped into repeats (:func:`group_runs`) and listed per paper next to the paper's
    figures; the sweeps that the runs cover (BPSA+BPTA's Table 9, MSG's Fig. 5, ASF's T) are
    plotted, as PNG files next to ``report.md`` and embedded in ``report.html``, which needs no
    other file, script or style sheet.

    Args:
        runs_dir: a folder with run folders anywhere below it.
        out: where to write; default ``runs_dir``.

    Returns:
        ``{"markdown", "html", "plots", "groups", "runs"}``: the paths written and counts.

    Raises:
        ReportError: no finished run below ``runs_dir``, or an unreadable run.

    Example::

        >>> import snntorch_ext as snx
        >>> written = snx.reproduce.write_report("runs")  # doctest: +SKIP
    """
    root = Path(runs_dir)
    groups = group_runs(find_runs(root))
    plots = sweep_plots(groups)
    out = Path(out) if out is not None else root
    out.mkdir(parents=True, exist_ok=True)
    images = {plot.stem: plot.png() for plot in plots}
    for stem, png in images.items():
        (out / f"{stem}.png").write_bytes(png)
    write_text(out / "report.md", _markdown(groups, plots, root))
    write_text(out / "report.html", _html(groups, plots, images, root))
    return {"markdown": out / "report.md", "html": out / "report.html",
            "plots": [out / f"{stem}.png" for stem in images], "groups": len(groups),
            "runs": sum(group.n for group in groups)}
