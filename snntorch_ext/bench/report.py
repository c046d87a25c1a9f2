"""Tables and a plot from the results: ``results.md``, ``results/bench.rst``, ``bench.png``.

Every table is built once as rows of text (:func:`tables`) and written as Markdown (for the
repository) and as reStructuredText (included by the documentation). Ratios compare cases of
the same run only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .layer import FLOOR, SPIKINGJELLY
from .training import PAIRS

__all__ = ["Table", "plot", "setup_line", "tables", "to_markdown", "to_rst"]

REFERENCE = ("snn.Leaky", "snntorch-loop")  # the layer case every ratio is relative to
Table = tuple[str, str, list[str], list[list[str]]]  # title, note, header, rows


def _ok(results: Sequence[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    return [r for r in results if r["group"] == group and r["status"] == "ok"]


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _mb(value: float) -> str:
    return f"{max(value, 0.0):.0f}"  # memory freed during the calls is no negative peak


def _layer_tables(results: Sequence[dict[str, Any]]) -> list[Table]:
    rows = _ok(results, "layer")
    if not rows:
        return []
    by = {(r["name"], r["path"], r["T"]): r for r in rows}
    steps = sorted({r["T"] for r in rows})
    cases = list(dict.fromkeys((r["name"], r["path"]) for r in rows))
    shape = f"[T, {rows[0]['batch']}, {rows[0]['width']}]"

    def speedup(name: str, path: str, t: int) -> str:
        ref = by.get((*REFERENCE, t))
        return "" if ref is None else f" ({_x(ref['median_ms'] / by[name, path, t]['median_ms'])})"

    overview = [[name, path, *(f"{by[name, path, t]['median_ms']:.1f}{speedup(name, path, t)}"
                               if (name, path, t) in by else "n/a" for t in steps)]
                for name, path in cases]
    last = steps[-1]
    ref, floor = by.get((*REFERENCE, last)), by.get((FLOOR, "multi-step", last))
    jelly = by.get((SPIKINGJELLY, "multi-step", last))
    detail = []
    for name, path in cases:
        r = by.get((name, path, last))
        if r is None:
            continue
        detail.append([
            name, path, f"{r['median_ms']:.1f}", f"{r['min_ms']:.1f}",
            f"{r['max_ms'] / r['min_ms']:.2f}",
            _x(ref["median_ms"] / r["median_ms"]) if ref else "",
            _x(jelly["median_ms"] / r["median_ms"]) if jelly else "",
            _x(r["median_ms"] / floor["median_ms"]) if floor else "",
            _mb(r["peak_mb"]), f"{r['saved_bytes_per_neuron_step']:.1f}",
        ])
    return [
        (f"One neuron layer {shape}, forward + backward",
         "Median ms of the repeats (in brackets: speed-up over snnTorch's tutorial loop of "
         "`snn.Leaky` at the same T; above 1 is faster).",
         ["neuron", "path", *(f"T = {t}" for t in steps)], overview),
        (f"One neuron layer at T = {last}: spread, ratios and memory",
         "Speed-up over snnTorch's loop and over SpikingJelly's LIF (above 1: faster); time "
         "relative to the hand-written plain-LIF floor (1 = as fast as the floor); peak memory "
         "growth during the timed calls; bytes saved for backward per neuron and step.",
         ["neuron", "path", "median ms", "min ms", "max/min", "vs snnTorch loop",
          "vs SpikingJelly", "time / floor", "peak MB", "saved B/neuron/step"], detail),
    ]


def _network_table(results: Sequence[dict[str, Any]]) -> list[Table]:
    rows = _ok(results, "network")
    if not rows:
        return []
    base = {r["name"]: r for r in rows if r["path"] == "per-step"}
    body = []
    for r in rows:
        size = f"T={r['T']}, B={r['batch']}" + (f", width {r['width']:g}, {r['size']}x"
                                                f"{r['size']}" if "width" in r else "")
        ref = base.get(r["name"])
        body.append([r["name"], size, r["path"], f"{r['median_ms']:.1f}", f"{r['min_ms']:.1f}",
                     _x(ref["median_ms"] / r["median_ms"]) if ref else "",
                     _mb(r["peak_mb"]), f"{r['saved_mb']:.1f}"])
    return [("One training step of a network",
             "Forward, loss, backward and the optimiser's update; speed-up over the per-step "
             "path of the same network.",
             ["network", "size", "path", "median ms", "min ms", "vs per-step", "peak MB",
              "saved MB"], body)]


def _asf_table(results: Sequence[dict[str, Any]]) -> list[Table]:
    rows = _ok(results, "asf")
    if not rows:
        return []
    base = {r["T"]: r for r in rows if r["path"] == "bptt per-step"}
    body = [[str(r["T"]), r["path"], f"{r['median_ms']:.1f}",
             _x(base[r["T"]]["median_ms"] / r["median_ms"]) if r["T"] in base else "",
             f"{r['saved_mb']:.1f}", _mb(r["peak_mb"])] for r in rows]
    return [(f"ASF against BPTT, one training step of asf_lenet (batch {rows[0]['batch']})",
             "Speed-up over BPTT through the per-step path; megabytes saved for backward and "
             "peak memory growth of one step.",
             ["T", "method", "median ms", "vs BPTT per-step", "saved MB", "peak MB"], body)]


def _msg_table(results: Sequence[dict[str, Any]]) -> list[Table]:
    rows = _ok(results, "msg")
    if not rows:
        return []
    by = {(r["config"], r["name"]): r for r in rows}
    body = []
    for r in rows:
        ref = by.get((r["config"], "snn.Leaky + atan"))
        bare = by.get((r["config"], PAIRS.get(r["name"], "")))
        body.append([r["config"], r["name"], f"{r['median_ms']:.1f}", f"{r['cpu_median_ms']:.1f}",
                     f"{r['median_ms'] / ref['median_ms']:.3f}" if ref else "",
                     f"{r['median_ms'] / bare['median_ms']:.3f}" if bare else "",
                     f"{r['cpu_median_ms'] / bare['cpu_median_ms']:.3f}" if bare else ""])
    first = rows[0]
    return [("The cost of the masked surrogate gradient (MSG)",
             f"One training step (forward, TWO, cross-entropy, backward, AdamW) on the "
             f"`{first['path']}` backend; masked / bare compares each masked surrogate with "
             f"its bare base (the paper: no significant increase).",
             ["config", "neuron", "wall ms", "CPU ms", "time / snn.Leaky + atan",
              "masked / bare (wall)", "masked / bare (CPU)"], body)]


def _skipped_table(results: Sequence[dict[str, Any]]) -> list[Table]:
    from .cases import case_id

    body = [[case_id(r), r["status"], r["reason"].splitlines()[0][:200]]
            for r in results if r["status"] != "ok"]
    if not body:
        return []
    return [("Cases not measured", "Paths this installation lacks, and failures.",
             ["case", "status", "reason"], body)]


def tables(results: Sequence[dict[str, Any]]) -> list[Table]:
    """Every table of a run: the layer, network, ASF, MSG and not-measured tables.

    Example::

        >>> from snntorch_ext.bench.report import tables
        >>> tables([])
        []
    """
    return [*_layer_tables(results), *_network_table(results), *_asf_table(results),
            *_msg_table(results), *_skipped_table(results)]


def setup_line(setup: dict[str, Any]) -> str:
    """One sentence naming the machine and versions of a run (for the tables' header).

    Example::

        >>> from snntorch_ext.bench.report import setup_line
        >>> print(setup_line({"device_name": "cpu", "threads": 2, "torch": "2.4",
        ...                   "snntorch": "1.0", "spikingjelly": None, "quick": True,
        ...                   "date": "today"}))  # doctest: +NORMALIZE_WHITESPACE
        Measured on cpu with 2 torch threads, torch 2.4, snnTorch 1.0, SpikingJelly not
        installed; quick sizes; today.
    """
    jelly = setup["spikingjelly"] or "not installed"
    sizes = "quick sizes" if setup["quick"] else "full sizes"
    load = setup.get("load_average")
    load = "" if load is None else f" (load average {load:.1f} at the start)"
    return (f"Measured on {setup['device_name']} with {setup['threads']} torch threads, torch "
            f"{setup['torch']}, snnTorch {setup['snntorch']}, SpikingJelly {jelly}; {sizes}; "
            f"{setup['date']}{load}.")


def to_markdown(all_tables: Sequence[Table], setup: dict[str, Any]) -> str:
    """The tables as one Markdown document (``results.md``).

    Example::

        >>> from snntorch_ext.bench.report import to_markdown
        >>> print(to_markdown([("T", "note", ["a", "b"], [["1", "2"]])], {
        ...     "device_name": "cpu", "threads": 1, "torch": "2", "snntorch": "1",
        ...     "spikingjelly": None, "quick": True, "date": "now"}).splitlines()[8])
        | a | b |
    """
    lines = ["# Benchmarks", "", setup_line(setup), ""]
    for title, note, header, rows in all_tables:
        lines += [f"## {title}", "", note, "", "| " + " | ".join(header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def _rst_cell(text: str) -> str:
    return text.replace("`", "``").replace("*", r"\*") or " "


def to_rst(all_tables: Sequence[Table], setup: dict[str, Any]) -> str:
    """The tables as reStructuredText ``list-table`` directives (included by the docs).

    Example::

        >>> from snntorch_ext.bench.report import to_rst
        >>> "list-table" in to_rst([("T", "note", ["a"], [["1"]])], {
        ...     "device_name": "cpu", "threads": 1, "torch": "2", "snntorch": "1",
        ...     "spikingjelly": None, "quick": True, "date": "now"})
        True
    """
    lines = [setup_line(setup), ""]
    for title, note, header, rows in all_tables:
        lines += [f".. list-table:: {title}", "   :header-rows: 1", ""]
        for row in [header, *rows]:
            cells = [_rst_cell(cell) for cell in row]
            lines.append(f"   * - {cells[0]}")
            lines += [f"     - {cell}" for cell in cells[1:]]
        lines += ["", note.replace("`", "``"), ""]
    return "\n".join(lines)


def plot(results: Sequence[dict[str, Any]], path: Path) -> None:
    """Four panels: layer speed-ups, network steps, ASF against BPTT, MSG's masked / bare.

    Example::

        >>> from pathlib import Path
        >>> from snntorch_ext.bench.report import plot
        >>> plot([], Path("bench.png"))  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    _plot_layer(axes[0, 0], _ok(results, "layer"))
    _plot_bars(axes[0, 1], _ok(results, "network"), "One training step of a network",
               lambda r: f"{r['name']}\n{r['path']}")
    _plot_asf(axes[1, 0], _ok(results, "asf"))
    _plot_bars(axes[1, 1], _ok(results, "msg"), "MSG: one training step",
               lambda r: f"{r['config']}\n{r['name']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_layer(ax, rows: list[dict[str, Any]]) -> None:
    ax.set_title("One neuron layer, forward + backward")
    if not rows:
        return
    last = max(r["T"] for r in rows)
    ref = [r for r in rows if (r["name"], r["path"]) == REFERENCE and r["T"] == last]
    mine = [r for r in rows if r["T"] == last]
    if not ref:
        return
    speedups = [ref[0]["median_ms"] / r["median_ms"] for r in mine]
    labels = [f"{r['name']} / {r['path']}" for r in mine]
    ax.barh(range(len(mine)), speedups, color="tab:blue")
    ax.set_yticks(range(len(mine)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel(f"speed-up over snnTorch's tutorial loop of snn.Leaky (T = {last})")
    ax.grid(axis="x", alpha=0.3)


def _plot_bars(ax, rows: list[dict[str, Any]], title: str, label) -> None:
    ax.set_title(title)
    if not rows:
        return
    ax.barh(range(len(rows)), [r["median_ms"] for r in rows], color="tab:green")
    ax.set_yticks(range(len(rows)), [label(r) for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("median ms per step")
    ax.grid(axis="x", alpha=0.3)


def _plot_asf(ax, rows: list[dict[str, Any]]) -> None:
    ax.set_title("ASF against BPTT, one training step")
    for method in dict.fromkeys(r["path"] for r in rows):
        mine = sorted((r for r in rows if r["path"] == method), key=lambda r: r["T"])
        ax.plot([r["T"] for r in mine], [r["median_ms"] for r in mine], "o-", label=method)
    if rows:
        ax.set(xlabel="time steps T", ylabel="median ms per step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)

