r"""Effect protocols: does each paper's central claim show on the CPU, with seeds and a paired test?

A :class:`Protocol` trains several arms (e.g. baseline, BPSA, BPSA+BPTA) of one quick recipe.
For every arm the learning rate is chosen on a validation split held out of the training data
(:func:`~snntorch_ext.data.validation_split`, seed 0), then the arm is trained with that rate
once per seed on the same training items and tested on the test split. Each finished run is
appended at once to a results file, so an interrupted protocol continues where it stopped.

A claim "arm :math:`b` beats arm :math:`a`" is judged on the per-seed differences
:math:`d_k = \mathrm{acc}_b(k) - \mathrm{acc}_a(k)` (the same seed gives both arms the same
batch order) by a one-sided paired :math:`t` test at level 0.05:

.. math:: t = \frac{\bar d}{s_d / \sqrt{n}}, \qquad
          \text{reproduced if } t \ge t_{0.95,\,n-1}, \quad
          \text{reversed if } t \le -t_{0.95,\,n-1}, \quad \text{else inconclusive}.

Example::

    >>> import snntorch_ext as snx
    >>> snx.reproduce.effects.paired([0.90, 0.91, 0.89], [0.93, 0.94, 0.93])["verdict"]
    'reproduced'
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import math
import os
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..recipes import Recipe, get
from .runs import write_text

__all__ = ["Arm", "Protocol", "arm_recipe", "docs_page", "load_results", "markdown", "paired",
           "report", "run_protocol", "summarise", "tables", "write_docs_page"]

RESULTS_FORMAT = 1
# One-sided 95% quantiles of Student's t with 1..10 degrees of freedom.
T_95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812)
DESCRIPTIVE = {"name", "paper", "table", "notes", "group", "paper_value", "paper_sd",
               "paper_metric", "paper_firing_rate", "paper_energy_ratio"}


@dataclasses.dataclass(frozen=True)
class Arm:
    """One arm of a protocol: recipe fields that replace the protocol's, and where the paper's
    figure for it lives (a recipe whose ``paper_value`` it is, or ``None``).

    Example::

        >>> from snntorch_ext.reproduce.effects import Arm
        >>> Arm("bpsa", {"neuron_kwargs": {"temporal": False}}).name
        'bpsa'
    """

    name: str
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    paper_recipe: str | None = None

    def paper_value(self) -> float | None:
        """The paper's figure for this arm (from its recipe), or ``None``."""
        return get(self.paper_recipe).paper_value if self.paper_recipe else None


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A CPU protocol for one claim of a paper: arms, learning rates to choose from, seeds.

    ``recipe``'s quick variant, with ``settings`` applied (dict fields are merged into the
    recipe's), is the base of every arm; an arm's settings replace whole fields. ``claims``
    lists pairs ``(a, b)``: the paper says arm ``b`` beats arm ``a``.
    With a single learning rate in ``lrs`` nothing is tuned.

    Example::

        >>> import snntorch_ext as snx
        >>> protocol = snx.reproduce.PROTOCOLS["bpsta-digits"]
        >>> [arm.name for arm in protocol.arms]
        ['baseline', 'bpsa', 'bpsa+bpta']
    """

    key: str
    paper: str
    claim: str
    recipe: str
    arms: tuple[Arm, ...]
    claims: tuple[tuple[str, str], ...]
    lrs: tuple[float, ...]
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...] = (0, 1, 2)
    val_size: int = 500
    notes: str = ""

    def arm(self, name: str) -> Arm:
        """The arm called ``name``."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise ValueError(f"protocol {self.key!r} has no arm {name!r}; its arms are "
                         f"{', '.join(a.name for a in self.arms)}")

    def runs(self) -> int:
        """How many trainings the whole protocol takes."""
        tune = len(self.lrs) if len(self.lrs) > 1 else 0
        return len(self.arms) * (tune + len(self.seeds))


def _merge(recipe: Recipe, settings: dict[str, Any]) -> Recipe:
    merged = {key: ({**getattr(recipe, key), **value} if isinstance(value, dict)
                    and isinstance(getattr(recipe, key), dict) else value)
              for key, value in settings.items()}
    return dataclasses.replace(recipe, **merged)


def arm_recipe(protocol: Protocol, arm: Arm, lr: float, phase: str) -> Recipe:
    """The recipe one run trains: ``phase`` ``"tune"`` evaluates on the validation split,
    ``"test"`` on the test split; both train on the same items.

    Example::

        >>> import snntorch_ext as snx
        >>> protocol = snx.reproduce.PROTOCOLS["bpsta-digits"]
        >>> recipe = snx.reproduce.effects.arm_recipe(protocol, protocol.arms[0], 1e-3, "tune")
        >>> recipe.dataset, recipe.dataset_kwargs["evaluate_on"]
        ('snntorch_ext.data:validation_split', 'validation')
    """
    recipe = _merge(get(protocol.recipe).quick_variant(), protocol.settings)
    recipe = _merge(dataclasses.replace(recipe, **arm.settings), {"optimizer_kwargs": {"lr": lr}})
    evaluate_on = {"tune": "validation", "test": "test"}[phase]
    return dataclasses.replace(
        recipe, name=f"{protocol.key}-{arm.name}", dataset="snntorch_ext.data:validation_split",
        dataset_kwargs={"source": recipe.dataset, "val_size": protocol.val_size,
                        "evaluate_on": evaluate_on, **recipe.dataset_kwargs})


def _fingerprint(recipe: Recipe) -> str:
    fields = {k: v for k, v in recipe.to_dict().items() if k not in DESCRIPTIVE}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def load_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a results file (an empty list if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(f"results file {str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ValueError(f"results file {str(path)!r} holds no 'runs' list")
    return data["runs"]


def _append(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Add ``record`` to the results file; a lock beside it lets protocols run side by side."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = load_results(path) + [record]
        write_text(path, json.dumps({"format": RESULTS_FORMAT, "runs": runs}, indent=1) + "\n")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


Trainer = Callable[..., dict[str, Any]]


def _train_once(train: Trainer, recipe: Recipe, out: Path, seed: int) -> dict[str, Any]:
    cpu, wall = _cpu_seconds(), time.perf_counter()
    summary = train(recipe, seed=seed, out=out, overwrite=True, progress=False, device="cpu")
    metrics = Path(out) / "metrics.jsonl"
    curve = ([round(json.loads(line)["test_acc"], 4) for line in metrics.read_text().splitlines()]
             if metrics.exists() else None)
    return {"final_acc": summary["test_acc"], "best_acc": summary["best_test_acc"],
            "curve": curve,
            "epochs": summary["epochs"], "firing_rate": summary.get("firing_rate"),
            "cpu_s": round(_cpu_seconds() - cpu, 1),
            "wall_s": round(time.perf_counter() - wall, 1)}


def run_protocol(protocol: Protocol, results: str | os.PathLike, runs_dir: str | os.PathLike,
                 *, arms: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
                 train: Trainer | None = None,
                 log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run (or continue) ``protocol``: tune each arm's learning rate, then train every seed.

    Every finished training is appended to ``results`` (JSON) at once; a training already
    recorded there with the same settings is not repeated. Runs are written below
    ``runs_dir/<protocol>/<arm>/``. Returns the protocol's records.

    Example::

        >>> import snntorch_ext as snx
        >>> protocol = snx.reproduce.PROTOCOLS["bpsta-digits"]
        >>> snx.reproduce.run_protocol(protocol, "effects.json", "runs/effects")  # doctest: +SKIP
    """
    if train is None:
        from ..engine import train
    from .. import __version__

    chosen = [protocol.arm(name) for name in arms] if arms else list(protocol.arms)
    seeds = list(protocol.seeds if seeds is None else seeds)

    def once(arm: Arm, phase: str, lr: float, seed: int) -> dict[str, Any]:
        recipe = arm_recipe(protocol, arm, lr, phase)
        key = {"protocol": protocol.key, "arm": arm.name, "phase": phase, "lr": lr,
               "seed": seed, "settings": _fingerprint(recipe)}
        for record in load_results(results):
            if {k: record.get(k) for k in key} == key:
                return record
        log(f"{protocol.key} / {arm.name}: {phase} lr {lr:g} seed {seed}")
        out = Path(runs_dir) / protocol.key / arm.name / f"{phase}-lr{lr:g}-seed{seed}"
        record = {**key, **_train_once(train, recipe, out, seed), "version": __version__,
                  "date": time.strftime("%Y-%m-%d")}
        _append(results, record)
        log(f"  accuracy {record['final_acc']:.4f}, {record['cpu_s']:.0f} CPU s")
        return record

    for arm in chosen:
        lr = protocol.lrs[0]
        if len(protocol.lrs) > 1:
            tuned = [once(arm, "tune", rate, protocol.seeds[0]) for rate in protocol.lrs]
            lr = max(tuned, key=lambda r: (r["final_acc"], -r["lr"]))["lr"]
        for seed in seeds:
            once(arm, "test", lr, seed)
    return [r for r in load_results(results) if r.get("protocol") == protocol.key]


def paired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """The paired comparison of ``b`` against ``a`` (same seeds, same order).

    Returns the mean and sd of :math:`d_k = b_k - a_k`, :math:`t`, :math:`n` and the verdict
    (``"reproduced"``, ``"reversed"`` or ``"inconclusive"``) of the one-sided test at 0.05.

    Example::

        >>> from snntorch_ext.reproduce.effects import paired
        >>> round(paired([0.8, 0.9], [0.85, 0.97])["mean"], 3)
        0.06
    """
    if len(a) != len(b):
        raise ValueError(f"paired comparison needs as many values in a as in b, got "
                         f"{len(a)} and {len(b)}")
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    n = len(diffs)
    mean = statistics.fmean(diffs) if diffs else math.nan
    sd = statistics.stdev(diffs) if n > 1 else None
    t = None
    if sd is not None:
        if sd > 0:
            t = mean / (sd / math.sqrt(n))
        else:
            t = math.copysign(math.inf, mean) if mean else 0.0
    verdict = "inconclusive"
    if t is not None:
        critical = T_95[min(n - 1, len(T_95)) - 1]
        verdict = ("reproduced" if t >= critical else "reversed" if t <= -critical
                   else "inconclusive")
    return {"mean": mean, "sd": sd, "t": t, "n": n, "verdict": verdict}


def summarise(protocol: Protocol, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per arm: the chosen learning rate, the test accuracies per seed, mean, sd and CPU
    seconds per run; per claim: the paired comparison over the seeds both arms have.

    Only records made with the protocol's current settings count.

    Example::

        >>> import snntorch_ext as snx
        >>> protocol = snx.reproduce.PROTOCOLS["bpsta-digits"]
        >>> snx.reproduce.effects.summarise(protocol, [])["arms"]["bpsa"]["n"]
        0
    """
    arms: dict[str, Any] = {}
    for arm in protocol.arms:
        tune = {r["lr"]: r for r in records if r["arm"] == arm.name and r["phase"] == "tune"
                and r["settings"] == _fingerprint(arm_recipe(protocol, arm, r["lr"], "tune"))}
        lr = (max(tune.values(), key=lambda r: (r["final_acc"], -r["lr"]))["lr"]
              if len(protocol.lrs) > 1 and len(tune) == len(protocol.lrs) else
              protocol.lrs[0] if len(protocol.lrs) == 1 else None)
        fingerprint = _fingerprint(arm_recipe(protocol, arm, lr, "test")) if lr else None
        tests = {r["seed"]: r for r in records if r["arm"] == arm.name and r["phase"] == "test"
                 and r["settings"] == fingerprint}
        accs = {seed: tests[seed]["final_acc"] for seed in sorted(tests)}
        values = list(accs.values())
        cpu = [r["cpu_s"] for r in [*tune.values(), *tests.values()]]
        arms[arm.name] = {
            "lr": lr, "tuning": {lr_: r["final_acc"] for lr_, r in sorted(tune.items())},
            "accs": accs, "n": len(values),
            "mean": statistics.fmean(values) if values else None,
            "sd": statistics.stdev(values) if len(values) > 1 else None,
            "cpu_s_per_run": statistics.fmean(cpu) if cpu else None,
            "paper": arm.paper_value()}
    claims = []
    for a, b in protocol.claims:
        seeds = sorted(set(arms[a]["accs"]) & set(arms[b]["accs"]))
        claims.append({"worse": a, "better": b, "seeds": seeds,
                       **paired([arms[a]["accs"][s] for s in seeds],
                                [arms[b]["accs"][s] for s in seeds])})
    return {"protocol": protocol.key, "arms": arms, "claims": claims}


def _pct(value: float | None, sd: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}" + (f" +- {100 * sd:.1f}" if sd is not None else "")


def _signed(value: float | None, sd: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{100 * value:+.1f}" + (f" +- {100 * sd:.1f}" if sd is not None else "")


def tables(protocol: Protocol, summary: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """The arms table and the claims table of a summary, as rows of cells (header first).

    Example::

        >>> import snntorch_ext as snx
        >>> protocol = snx.reproduce.PROTOCOLS["asf-vs-bptt"]
        >>> arms, claims = snx.reproduce.effects.tables(
        ...     protocol, snx.reproduce.effects.summarise(protocol, []))
        >>> arms[0][:3]
        ['arm', 'paper (%)', 'lr (chosen on validation)']
    """
    arms = [["arm", "paper (%)", "lr (chosen on validation)", "ours: test accuracy (%)",
             "seeds", "CPU s per run"]]
    for arm in protocol.arms:
        row = summary["arms"][arm.name]
        tuning = ", ".join(f"{lr:g}: {_pct(acc)}" for lr, acc in row["tuning"].items())
        lr = ("-" if row["lr"] is None else f"{row['lr']:g}") + (f" ({tuning})" if tuning else "")
        arms.append([arm.name, "-" if row["paper"] is None else f"{row['paper']:.2f}", lr,
                     _pct(row["mean"], row["sd"]), str(row["n"]),
                     "-" if row["cpu_s_per_run"] is None else f"{row['cpu_s_per_run']:.0f}"])
    claims = [["claim", "paired difference (points)", "t", "n", "verdict"]]
    for claim in summary["claims"]:
        t = "-" if claim["t"] is None else f"{claim['t']:.2f}"
        claims.append([f"{claim['better']} > {claim['worse']}",
                       _signed(claim["mean"] if claim["n"] else None, claim["sd"]), t,
                       str(claim["n"]), claim["verdict"]])
    return arms, claims


def markdown(protocol: Protocol, summary: dict[str, Any]) -> str:
    """A protocol's summary as Markdown: its claim, its settings and both tables."""
    lines = [f"## {protocol.key}", "", protocol.claim, "", protocol.notes, ""]
    for rows in tables(protocol, summary):
        lines += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]] + [""]
    return "\n".join(lines)


_PAPERS = {"bpsta": "BPSA+BPTA (Shen et al. 2022)", "msg": "MSG+TWO (Yang et al. 2024)",
           "asf": "ASF (Wu et al. 2021)", "ssl": "Spike-sequence labels (JEIT 2024)"}


def _rst_table(rows: list[list[str]]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return lines + [""]


def _verdict(summary: dict[str, Any]) -> str:
    claims = summary["claims"]
    if not any(claim["n"] for claim in claims):
        return "Not measured with this release."
    parts = [f"{c['better']} > {c['worse']}: {c['verdict']} (n = {c['n']})" for c in claims]
    return "Verdict on the CPU: " + "; ".join(parts) + "."


def docs_page(records: Sequence[dict[str, Any]],
              protocols: dict[str, Protocol] | None = None) -> str:
    r"""The reStructuredText of the "Effects on the CPU" page, from the records of a results file.

    Per protocol: the paper's claim, the settings, the arms (the paper's figure, the learning
    rate chosen on the validation split with the validation accuracy of every candidate, mean
    :math:`\pm` sample sd of the test accuracy over seeds, CPU seconds per run) and the paired
    comparisons with their verdicts. The same records give the same text.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.reproduce.effects.docs_page([]).splitlines()[2]
        'Effects on the CPU'
    """
    from .protocols import PROTOCOLS

    protocols = PROTOCOLS if protocols is None else protocols
    lines = [".. _effects:", "", "Effects on the CPU", "==================", "",
             ".. This page is generated by `snntorch-ext effects --docs` from "
             "docs/results/effects.json.", "",
             "Does each paper's central claim show on a CPU? Each protocol below trains the "
             "arms of one claim on data that ships with the install, chooses every arm's "
             "learning rate on a validation split held out of the training data (seed 0, never "
             "the test set), then trains each arm with that rate for three seeds and tests it. "
             "A claim is judged by a one-sided paired t test over the seeds at level 0.05 "
             "(:mod:`snntorch_ext.reproduce.effects`): *reproduced*, *reversed* or "
             "*inconclusive*. These are small, short runs (minutes on two CPU cores), so an "
             "inconclusive verdict says the CPU budget cannot tell, not that the paper is "
             "wrong; the papers' own figures come from full GPU runs on other data sets. "
             "Rerun a protocol with:", "",
             ".. code-block:: bash", "",
             "   snntorch-ext effects PROTOCOL --results docs/results/effects.json", ""]
    for protocol in protocols.values():
        summary = summarise(protocol, [r for r in records if r.get("protocol") == protocol.key])
        title = f"{_PAPERS.get(protocol.paper, protocol.paper)}: ``{protocol.key}``"
        lines += [title, "-" * len(title), "", protocol.claim, "", protocol.notes, ""]
        arms, claims = tables(protocol, summary)
        lines += _rst_table(arms) + _rst_table(claims) + [_verdict(summary), ""]
    return "\n".join(lines)


def write_docs_page(results: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write :func:`docs_page` of the results file ``results`` to ``out``.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.reproduce.effects.write_docs_page("docs/results/effects.json",
        ...                                       "docs/effects.rst")  # doctest: +SKIP
    """
    write_text(out, docs_page(load_results(results)))
    return Path(out)


def report(key: str, results: str | os.PathLike) -> str:
    """A protocol's tables and verdict as text, from the records in the results file.

    Example::

        >>> import snntorch_ext as snx
        >>> print(snx.reproduce.effects.report("asf-vs-bptt", "missing.json"))
        No results file missing.json: run `snntorch-ext effects asf-vs-bptt --results missing.json`.
    """
    from .protocols import PROTOCOLS

    if key not in PROTOCOLS:
        raise ValueError(f"unknown protocol {key!r}; the protocols are {', '.join(PROTOCOLS)}")
    if not Path(results).exists():
        return (f"No results file {results}: run `snntorch-ext effects {key} --results "
                f"{results}`.")
    protocol = PROTOCOLS[key]
    summary = summarise(protocol, [r for r in load_results(results)
                                   if r.get("protocol") == key])
    return markdown(protocol, summary) + "\n" + _verdict(summary)
